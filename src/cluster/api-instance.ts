import type { ChildProcess } from 'node:child_process';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnTiedToParent, stopChild } from '../embedded';

const STARTUP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const HEALTH_POLL_MS = 250;

/**
 * The service next to this file, run the way this launcher runs: dist/main.js from a build, src/main.ts when the
 * launcher itself runs from source through a loader (`node -r ts-node/register ...`: execArgv carries it over).
 */
const SERVICE_ENTRY = join(__dirname, '..', `main${extname(__filename)}`);

/** One API process of the cluster, its log lines prefixed with its name. */
export class ApiInstance {
  private readonly child: ChildProcess;
  private stopping = false;

  private constructor(
    readonly name: string,
    readonly url: string,
    env: NodeJS.ProcessEnv,
  ) {
    // Tied to the launcher: an instance never outlives it, even when the launcher is killed with SIGKILL.
    this.child = spawnTiedToParent(process.execPath, [...process.execArgv, SERVICE_ENTRY], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(this.child.stdout, process.stdout, `[${name}] `);
    prefixLines(this.child.stderr, process.stderr, `[${name}] `);
  }

  /** Starts the service with `env` (its PORT and HOST give `url`). */
  static start(name: string, url: string, env: NodeJS.ProcessEnv): ApiInstance {
    return new ApiInstance(name, url, env);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `onExit` with a one-line reason when the process ends without `stop()` having been asked. */
  onUnexpectedExit(onExit: (reason: string) => void): void {
    this.child.once('exit', (code, signal) => {
      if (this.stopping) return;
      onExit(
        `${this.name} (${this.url}) exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`,
      );
    });
  }

  /** Resolves once GET /api/health answers 200; rejects if the process exits first or after the timeout. */
  async waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during startup`);
      const healthy = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(2_000) })
        .then(async (res) => {
          await res.body?.cancel();
          return res.status === 200;
        })
        .catch(() => false);
      if (healthy) return;
      await sleep(HEALTH_POLL_MS);
    }
    throw new Error(
      `${this.name} did not answer ${this.url}/api/health within ${STARTUP_TIMEOUT_MS / 1000} s`,
    );
  }

  /** SIGTERM (the service's graceful shutdown), SIGKILL after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    await stopChild(this.child, { graceMs: STOP_GRACE_MS });
  }
}

/** Copies `source` to `target` line by line, each line prefixed. */
function prefixLines(source: NodeJS.ReadableStream | null, target: Writable, prefix: string): void {
  if (!source) return;
  createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) =>
    target.write(`${prefix}${line}\n`),
  );
}
