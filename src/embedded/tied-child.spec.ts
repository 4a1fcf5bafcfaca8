import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { isProcessRunning, waitForProcessExit } from '../../test/support/processes';
import { spawnTiedToParent } from './tied-child';

const ROOT = resolve(__dirname, '../..');

/** A server that logs "ready" to stderr and exits with code 3 on SIGINT (SIGTERM keeps its default). */
const SERVER = `
  process.on('SIGINT', () => { console.log('stopping on SIGINT'); process.exit(3); });
  console.error('ready');
  setInterval(() => undefined, 1000);`;

/** Resolves with everything `stream` emitted once it contains `text`; the stream keeps flowing. */
function outputContaining(stream: Readable, text: string): Promise<string> {
  return new Promise((done, fail) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += String(chunk);
      if (!seen.includes(text)) return;
      stream.off('data', onData).off('end', onEnd);
      done(seen);
    };
    const onEnd = () => fail(new Error(`the stream ended without "${text}": ${seen}`));
    stream.on('data', onData).once('end', onEnd);
  });
}

function exitOf(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  return once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
}

/** Rejects after `ms`, so a missing event fails the test with a message instead of the Jest timeout. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('spawnTiedToParent', () => {
  const started: ChildProcess[] = [];
  const track = <T extends ChildProcess>(child: T): T => (started.push(child), child);
  const startServer = () =>
    track(spawnTiedToParent(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'pipe'] }));
  afterEach(() => {
    for (const child of started.splice(0))
      if (child.exitCode === null && !child.signalCode) child.kill('SIGKILL');
  });

  it('stops the child when its Node parent is killed with SIGKILL', async () => {
    // The grandchild writes into the parent's stdout pipe, so the test sees that pipe's EOF only when both died.
    const script = `
      const { spawnTiedToParent } = require(${JSON.stringify(resolve(__dirname, 'tied-child'))});
      const child = spawnTiedToParent('sleep', ['1000'], { stdio: ['ignore', 'inherit', 'inherit'] });
      process.stdout.write(child.pid + '\\n');`;
    const parent = track(
      spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const stdoutEnded = once(parent.stdout, 'end');
    const serverPid = Number(await within(20_000, 'the pid', outputContaining(parent.stdout, '\n')));
    expect(isProcessRunning(serverPid)).toBe(true);

    const parentExit = exitOf(parent);
    parent.kill('SIGKILL');
    expect(await parentExit).toEqual([null, 'SIGKILL']);
    await within(10_000, 'the orphaned child to close its stdout', stdoutEnded);
    // It closed its descriptors while exiting; it is gone a moment later.
    await waitForProcessExit(serverPid, 2_000);
  }, 30_000);

  it('kill() signals the real server, whose exit the returned process reports', async () => {
    const child = startServer();
    await within(10_000, 'ready on stderr', outputContaining(child.stderr!, 'ready'));
    // The pid is the server's own: the wrapper shell exec'd it.
    expect(readlinkSync(`/proc/${child.pid}/exe`)).toBe(realpathSync(process.execPath));
    const exited = exitOf(child);
    const closed = once(child, 'close');
    child.kill('SIGTERM');
    expect(await within(5_000, 'exit', exited)).toEqual([null, 'SIGTERM']);
    await within(5_000, 'close', closed);
    expect(isProcessRunning(child.pid!)).toBe(false);
  });

  it("passes SIGINT to the server and stdout/stderr through, and reports the server's exit code", async () => {
    const child = startServer();
    await within(10_000, 'ready on stderr', outputContaining(child.stderr!, 'ready'));
    const exited = exitOf(child);
    const stdout = outputContaining(child.stdout!, 'stopping on SIGINT');
    child.kill('SIGINT');
    await within(5_000, 'the server output', stdout);
    expect(await within(5_000, 'exit', exited)).toEqual([3, null]);
  });

  it("leaves the caller's stdin to the server", async () => {
    const child = track(spawnTiedToParent('cat', []));
    const echoed = outputContaining(child.stdout!, 'hello');
    const exited = exitOf(child);
    child.stdin!.end('hello\n');
    expect(await within(5_000, 'the echo', echoed)).toBe('hello\n');
    expect(await within(5_000, 'exit', exited)).toEqual([0, null]);
  });

  it('reports a missing command as exit code 127', async () => {
    const child = track(spawnTiedToParent('/nonexistent/server-binary', [], { stdio: 'ignore' }));
    expect(await within(5_000, 'exit', exitOf(child))).toEqual([127, null]);
  });
});
