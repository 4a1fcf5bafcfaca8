import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort, spawnTiedToParent, stopChild } from '../embedded';

export interface RunningRedis {
  /** `redis://127.0.0.1:<port>`, for REDIS_URL. */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and removes its folder. */
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  /** Listen on this port instead of a free one. */
  port?: number;
  /** The redis-server binary; Debian's on the PATH by default. */
  binary?: string;
}

const STARTUP_TIMEOUT_MS = 10_000;

/**
 * Starts Debian's `redis-server` on 127.0.0.1 with nothing persisted (`--save "" --appendonly no`) in a folder of
 * its own, and resolves once it answers. For tests and `npm run start:cluster`; deployments set REDIS_URL.
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<RunningRedis> {
  const port = options.port ?? (await findFreePort());
  const dir = await mkdtemp(join(tmpdir(), 'media-upload-redis-'));
  const settings = {
    bind: '127.0.0.1',
    port: String(port),
    save: '',
    appendonly: 'no',
    dir,
    loglevel: 'warning',
  };
  const args = Object.entries(settings).flatMap(([name, value]) => [`--${name}`, value]);
  // Tied to this process: a kill -9 of the service (or of Jest) does not leave a server behind.
  const child = spawnTiedToParent(options.binary ?? 'redis-server', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = tailOf(child);
  try {
    await waitUntilServing(child, port);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    // The tied child's shell answers a missing command with the shell's "not found" status.
    const reason =
      child.exitCode === 127
        ? 'redis-server is not installed (Debian: apt-get install redis-server; scripts/ensure-test-deps.sh does it)'
        : (error as Error).message;
    throw new Error(`redis-server did not start: ${reason}. ${output().slice(-2000)}`.trim());
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The last few kilobytes the server printed, for the startup error. */
function tailOf(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: string) => (tail = (tail + chunk).slice(-4000));
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  return () => tail;
}

/**
 * Resolves once our server answers (accepting TCP is not enough: it may still be loading). The answer must come
 * from the child's pid: on a taken port, the child exits while whoever holds the port answers instead.
 */
async function waitUntilServing(child: ChildProcess, port: number): Promise<void> {
  const isAlive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('the process exited during startup');
    const pid = await serverPid(port);
    if (pid !== undefined && pid === child.pid && isAlive()) return;
    await sleep(20);
  }
  throw new Error(`no answer on 127.0.0.1:${port} within ${STARTUP_TIMEOUT_MS} ms`);
}

/** The `process_id` a Redis server on `port` reports in INFO, or undefined when none answers. */
function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (pid?: number) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(1000, () => done());
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk;
      if (reply.startsWith('-')) return done(); // LOADING or another error: not ready
      const match = /process_id:(\d+)\r\n/.exec(reply);
      if (match) done(Number(match[1]));
    });
    socket.once('error', () => done());
    socket.once('end', () => done());
  });
}
