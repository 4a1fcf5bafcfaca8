import 'reflect-metadata';
import { join } from 'node:path';
import { startEmbeddedRedis } from '../coordination';
import { ConfigValidationError } from '../config/validate-env';
import { EnvironmentVariables } from '../config/env.schema';
import { startEmbeddedMongoServer } from '../database';
import { S3ObjectStore, startEmbeddedS3Server } from '../storage';
import { ApiInstance } from './api-instance';
import { ClusterSettings, clusterSettings, loadDotEnv } from './cluster-settings';

/**
 * `npm run start:cluster`: one embedded database, one Redis, one S3 server and CLUSTER_INSTANCES API processes of
 * the built service on PORT, PORT+1, …, as a multi-instance deployment on one machine. Every child is tied to
 * this process; Ctrl-C or SIGTERM stops them all (instances first) and exits 0; an instance that dies on its own
 * stops the cluster with exit code 1.
 */
const log = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

/** The servers started so far, stopped in reverse order (S3, Redis, the database) after every instance. */
const servers: { name: string; stop: () => Promise<void> }[] = [];
const instances: ApiInstance[] = [];
let shuttingDown: Promise<void> | undefined;

function shutDown(exitCode: number, reason?: string): Promise<void> {
  shuttingDown ??= (async () => {
    if (reason) process.stderr.write(`[cluster] ${reason}\n`);
    log('Stopping…');
    await Promise.allSettled(instances.map((instance) => instance.stop()));
    for (const server of [...servers].reverse()) {
      await server
        .stop()
        .catch((error: unknown) => log(`${server.name} did not stop cleanly: ${messageOf(error)}`));
    }
    log('Stopped');
    process.exit(exitCode);
  })();
  return shuttingDown;
}

function onSignal(signal: NodeJS.Signals): void {
  // A second Ctrl-C while stopping leaves at once; the tied children still stop (their watchdogs see us go).
  if (shuttingDown) process.exit(1);
  log(`${signal} received`);
  void shutDown(0);
}

async function startServers(settings: ClusterSettings): Promise<NodeJS.ProcessEnv> {
  const db = await startEmbeddedMongoServer({
    dataDir: join(settings.dataDir, 'db'),
    cacheDir: settings.cacheDir,
    log,
  });
  servers.push({ name: 'database', stop: () => db.stop() });
  const redis = await startEmbeddedRedis();
  servers.push({ name: 'redis', stop: () => redis.stop() });
  log(`Started Redis on ${redis.url}`);
  const shared: NodeJS.ProcessEnv = {
    MONGODB_URI: db.uri,
    REDIS_URL: redis.url,
    JWT_SECRET: settings.jwtSecret,
    HOST: settings.host,
    // Also the local driver's folder (CLUSTER_STORAGE=local) and room for any local scratch space.
    UPLOAD_DIR: join(settings.dataDir, 'uploads'),
    STORAGE_DRIVER: settings.storage,
  };
  if (settings.storage === 'local') return shared;

  const s3 = await startEmbeddedS3Server({
    dataDir: join(settings.dataDir, 's3'),
    cacheDir: settings.cacheDir,
    log,
  });
  servers.push({ name: 's3', stop: () => s3.stop() });
  const s3Env = {
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_BUCKET: settings.bucket,
    S3_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
  await createBucket(s3Env);
  log(`Bucket ${settings.bucket} ready on ${s3.endpoint}`);
  return { ...shared, ...s3Env };
}

async function createBucket(env: Record<string, string>): Promise<void> {
  const defaults = new EnvironmentVariables();
  const store = new S3ObjectStore({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    forcePathStyle: true,
    partSizeBytes: defaults.S3_PART_SIZE,
    queueSize: defaults.S3_QUEUE_SIZE,
  });
  try {
    await store.ensureBucket();
  } finally {
    store.close();
  }
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  loadDotEnv();
  const settings = clusterSettings(process.env);
  log(
    `Starting ${settings.instances} instances with ${settings.storage} storage (data in ${settings.dataDir})`,
  );
  const shared = await startServers(settings);
  if (shuttingDown) return;

  for (let index = 0; index < settings.instances; index++) {
    const port = settings.firstPort + index;
    const instance = ApiInstance.start(`api-${index + 1}`, `http://${reachableHost(settings.host)}:${port}`, {
      ...process.env,
      ...shared,
      PORT: String(port),
    });
    instances.push(instance);
    instance.onUnexpectedExit((reason) => void shutDown(1, reason));
  }
  await Promise.all(instances.map((instance) => instance.waitUntilHealthy()));
  if (shuttingDown) return;
  log(`Ready: ${instances.length} instances sharing one database, one Redis and ${settings.storage} storage`);
  for (const instance of instances)
    log(`  ${instance.name}: ${instance.url}  (docs at ${instance.url}/api/docs)`);
  log('Press Ctrl-C to stop everything');
}

/** The address to print and to probe: a wildcard listen address is reached through loopback. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigValidationError ? error.message : `Could not start: ${messageOf(error)}`;
  // Stops whatever had started before the failure, then exits 1 with that one line.
  void shutDown(1, message.split('\n')[0]);
});

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
