import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { findFreePort, isRunning, spawnTiedToParent, stopChild, waitForPort } from '../../embedded';
import { ProgressLog } from '../../logging';
import { ensureVersitygw, VERSITYGW_VERSION } from './versitygw-installer';

export interface EmbeddedS3Options {
  /** The posix backend's root: each bucket is a folder in it, each object a file. */
  dataDir: string;
  /** Project-owned folder for the built binary (EMBEDDED_DB_CACHE_DIR). */
  cacheDir: string;
  log: (message: string) => void;
  /** Where the one-time build reports its progress; `log` when unset. */
  buildLog?: ProgressLog;
  /** Listen on this port instead of a free one (a restart where clients expect it). */
  port?: number;
  /** Root credentials; generated when unset. Pass the old ones to restart a server for the same clients. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
}

export interface RunningS3Server {
  /** `http://127.0.0.1:<port>`: S3_ENDPOINT, with S3_FORCE_PATH_STYLE=true. */
  endpoint: string;
  port: number;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Kills it at once, as a crash would (tests). */
  kill(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

/**
 * Starts versitygw with its posix backend on 127.0.0.1 (built on first use, see versitygw-installer.ts), in
 * single-account mode with root credentials only this process knows. The child dies with this process, even on
 * SIGKILL (spawnTiedToParent).
 */
export async function startEmbeddedS3Server(options: EmbeddedS3Options): Promise<RunningS3Server> {
  const { log, buildLog = log, region = 'us-east-1' } = options;
  const binary = await ensureVersitygw(resolve(options.cacheDir), buildLog);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const credentials = options.credentials ?? {
    accessKeyId: `vgw${randomBytes(8).toString('hex')}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  const child = spawnTiedToParent(
    binary,
    ['--port', `127.0.0.1:${port}`, '--region', region, '--keep-alive', '--quiet', 'posix', dataDir],
    {
      // Credentials through the environment, not argv, so `ps` does not show them.
      env: {
        ...process.env,
        ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
        ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail.push(chunk);
    if (stderrTail.length > 20) stderrTail.shift();
  });
  try {
    await waitForPort('127.0.0.1', port, STARTUP_TIMEOUT_MS, () => isRunning(child));
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `versitygw did not start: ${(error as Error).message}. ${stderrTail.join('').slice(-2000)}`,
    );
  }
  log(
    `Started embedded S3 server (versitygw ${VERSITYGW_VERSION}, posix, data in ${dataDir}) on 127.0.0.1:${port}`,
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    region,
    credentials,
    dataDir,
    pid: child.pid,
    stop: async () => {
      await stopChild(child);
      log(`Stopped embedded S3 server on 127.0.0.1:${port}`);
    },
    kill: () => stopChild(child, { signal: 'SIGKILL' }),
  };
}
