import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ensureFerretDb, FERRETDB_VERSION, hasGoToolchain } from './ferretdb-installer';
import { ProgressLog } from '../logging';
import { findFreePort, spawnTiedToParent, stopChild, waitForPort } from '../embedded';

export interface EmbeddedServerOptions {
  /** Where the database keeps its files; they survive restarts. */
  dataDir: string;
  /** Project-owned folder for the built server binary. */
  cacheDir: string;
  log: (message: string) => void;
  /** Where the one-time build of the server reports its progress; `log` when unset. */
  buildLog?: ProgressLog;
  /** Listen on this port instead of a free one (to restart a server where its clients expect it). */
  port?: number;
}

export interface RunningServer {
  kind: 'ferretdb' | 'mongodb-memory-server';
  /** Connection string without a database name. */
  uri: string;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;

/**
 * Starts a MongoDB wire-protocol server for when MONGODB_URI is unset: FerretDB v1 on SQLite when a Go
 * toolchain exists (this project's machines), otherwise mongodb-memory-server, which downloads a real mongod
 * (a laptop with internet access). See docs/architecture.md for why FerretDB and what was verified on it.
 */
export async function startEmbeddedMongoServer(options: EmbeddedServerOptions): Promise<RunningServer> {
  if (await hasGoToolchain()) return startFerretDb(options);
  options.log('No Go toolchain found: falling back to mongodb-memory-server (downloads a real mongod)');
  return startMongoMemoryServer(options);
}

async function startFerretDb({
  dataDir,
  cacheDir,
  log,
  buildLog = log,
  port: fixedPort,
}: EmbeddedServerOptions): Promise<RunningServer> {
  const binary = await ensureFerretDb(resolve(cacheDir), buildLog);
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const port = fixedPort ?? (await findFreePort());
  // Tied to this process: a kill -9 of the service must not leave FerretDB holding the port and the SQLite files.
  const child = spawnTiedToParent(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=warn',
      '--log-format=json',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail.push(chunk);
    if (stderrTail.length > 20) stderrTail.shift();
  });
  try {
    await waitForPort('127.0.0.1', port, STARTUP_TIMEOUT_MS, () => child.exitCode === null);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `FerretDB did not start: ${(error as Error).message}. ${stderrTail.join('').slice(-2000)}`,
    );
  }
  log(`Started embedded FerretDB ${FERRETDB_VERSION} (SQLite, data in ${dir}) on 127.0.0.1:${port}`);
  return {
    kind: 'ferretdb',
    uri: `mongodb://127.0.0.1:${port}`,
    stop: async () => {
      await stopChild(child);
      log(`Stopped embedded FerretDB on 127.0.0.1:${port}`);
    },
  };
}

async function startMongoMemoryServer({ dataDir, log }: EmbeddedServerOptions): Promise<RunningServer> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const dbPath = resolve(dataDir, 'mongod');
  await mkdir(dbPath, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: { dbPath, storageEngine: 'wiredTiger', ip: '127.0.0.1' },
  });
  const uri = server.getUri().replace(/\/$/, '');
  log(`Started mongodb-memory-server (data in ${dbPath}) at ${uri}`);
  return {
    kind: 'mongodb-memory-server',
    uri,
    stop: async () => {
      await server.stop({ doCleanup: false });
      log('Stopped mongodb-memory-server');
    },
  };
}
