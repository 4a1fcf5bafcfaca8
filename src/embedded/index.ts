export { findFreePort } from './free-port';
export { spawnTiedToParent } from './tied-child';
export { waitForPort } from './wait-for-port';
export { isRunning, stopChild } from './stop-child';
