// start-cluster.ts is the cluster entry point (npm run start:cluster), not an export.
export { ApiInstance } from './api-instance';
export { clusterSettings, loadDotEnv, type ClusterSettings } from './cluster-settings';
