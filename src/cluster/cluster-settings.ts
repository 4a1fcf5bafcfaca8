import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigValidationError, validateEnv } from '../config/validate-env';

/** What `npm run start:cluster` runs, from its environment (see the README's "Try several instances" section). */
export interface ClusterSettings {
  /** CLUSTER_INSTANCES: how many API processes (default 2). */
  instances: number;
  /** HOST the instances listen on (127.0.0.1 unless set). */
  host: string;
  /** PORT of the first instance; the others take the next ones. */
  firstPort: number;
  /** JWT_SECRET shared by every instance, so a token from one is accepted by all; generated per run unless set. */
  jwtSecret: string;
  /** CLUSTER_STORAGE: `s3` (the embedded S3 server, default) or `local` (one UPLOAD_DIR shared by all). */
  storage: 's3' | 'local';
  /** CLUSTER_DATA_DIR: the database, S3 and upload folders of the cluster (kept between runs). */
  dataDir: string;
  /** EMBEDDED_DB_CACHE_DIR: where the built FerretDB and versitygw binaries are cached. */
  cacheDir: string;
  /** S3_BUCKET (created when missing) and S3_REGION. */
  bucket: string;
  region: string;
}

const MAX_INSTANCES = 16;
const DEFAULT_BUCKET = 'media-uploads';

/**
 * Reads the launcher's settings. The launcher is a separate program, not the service: it reads its environment
 * here, and reuses the service's own validation for the variables it passes on (PORT, HOST, JWT_SECRET, S3_*),
 * so a value the instances would refuse stops it before anything starts, with the same one line.
 */
export function clusterSettings(raw: NodeJS.ProcessEnv): ClusterSettings {
  const instances = integerSetting(raw, 'CLUSTER_INSTANCES', 2, 1, MAX_INSTANCES);
  const storage = raw.CLUSTER_STORAGE || 's3';
  if (storage !== 's3' && storage !== 'local') {
    throw new ConfigValidationError('Invalid configuration: CLUSTER_STORAGE (must be s3 or local)');
  }
  const jwtSecret = raw.JWT_SECRET || randomBytes(32).toString('base64url');
  const env = validateEnv({
    ...raw,
    JWT_SECRET: jwtSecret,
    HOST: raw.HOST || '127.0.0.1',
    STORAGE_DRIVER: storage,
    S3_BUCKET: raw.S3_BUCKET || DEFAULT_BUCKET,
  });
  if (env.PORT < 1 || env.PORT + instances - 1 > 65535) {
    throw new ConfigValidationError(
      `Invalid configuration: PORT (${instances} instances need ports ${env.PORT} to ${env.PORT + instances - 1})`,
    );
  }
  return {
    instances,
    host: env.HOST,
    firstPort: env.PORT,
    jwtSecret,
    storage,
    dataDir: resolve(raw.CLUSTER_DATA_DIR || resolve(env.EMBEDDED_DB_DIR, 'cluster')),
    cacheDir: resolve(env.EMBEDDED_DB_CACHE_DIR),
    bucket: env.S3_BUCKET ?? DEFAULT_BUCKET,
    region: env.S3_REGION,
  };
}

function integerSetting(raw: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number) {
  const value = raw[name];
  if (!value) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw new ConfigValidationError(
      `Invalid configuration: ${name} (must be a whole number from ${min} to ${max})`,
    );
  }
  return parsed;
}

/**
 * Adds `.env`'s variables to the environment, as the service's ConfigModule reads them (the environment wins; not
 * under NODE_ENV=test), so the launcher and its instances see the same PORT, JWT_SECRET and S3_BUCKET.
 */
export function loadDotEnv(path = '.env'): void {
  if (process.env.NODE_ENV === 'test') return;
  try {
    process.loadEnvFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
