import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';

const ROOT = resolve(__dirname, '../..');

/** The service as it ships (src/main.ts), in a child process that the test can kill -9. */
export class ChildApp {
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly url: string,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.output = '';
    this.child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (data: Buffer) => (this.output += data.toString()));
    this.child.stderr?.on('data', (data: Buffer) => (this.output += data.toString()));
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the app exited at start:\n${this.output}`);
      const up = await request(this.url)
        .get('/api/health')
        .then((res) => res.status === 200)
        .catch(() => false);
      if (up) return;
      await sleep(250);
    }
    throw new Error(`the app did not start within 90 s:\n${this.output}`);
  }

  /** kill -9: no shutdown hooks, no flushing, like a crash or a power cut of the process. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }
}
