import type { ChildProcess } from 'node:child_process';

/** True until the child has exited (by itself or by a signal). */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Stops a server child: `signal` (SIGTERM, its graceful shutdown, by default), then SIGKILL if it has not exited
 * after `graceMs`. Resolves once it has exited; at once when it already had.
 */
export function stopChild(
  child: ChildProcess,
  { signal = 'SIGTERM', graceMs = 5_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill(signal);
  });
}
