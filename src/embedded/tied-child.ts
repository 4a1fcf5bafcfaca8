import { ChildProcess, spawn, SpawnOptions, StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';

/** How long the server gets to stop on SIGTERM after its parent died, before SIGKILL. */
const ORPHAN_GRACE_SECONDS = 5;

/**
 * Like `child_process.spawn`, but the child cannot outlive this Node process, even when it dies by SIGKILL and
 * runs no handler. A `/bin/sh` wrapper forks a watchdog that blocks reading a pipe from this process, then
 * `exec`s the command in its own place: the returned ChildProcess is the real server (its pid, its signals, its
 * exit code, its stdio). The kernel closes the pipe when this process dies, however it dies; the watchdog reads
 * EOF and stops the server (SIGTERM, SIGKILL after a grace period). When the server exits first, a newline on
 * the pipe tells the watchdog to leave quietly. The pipe is one extra stdio entry after the caller's. The
 * watchdog is the server's child but exits only once the server was told to stop, so a server that reaps any
 * child (redis-server's waitpid(-1)) never sees it go.
 *
 * Differences from spawn: a missing command exits with code 127 (the shell's "not found") instead of emitting
 * 'error'; `shell` is ignored. On Windows this is plain spawn.
 */
export function spawnTiedToParent(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  if (process.platform === 'win32') return spawn(command, args, options);
  const stdio = normaliseStdio(options.stdio);
  const watchdogFd = stdio.length;
  // sh redirections only take single-digit descriptors.
  if (watchdogFd > 9) throw new Error('spawnTiedToParent supports at most 9 stdio entries');
  const child = spawn('/bin/sh', ['-c', wrapperScript(watchdogFd), 'tied-child', command, ...args], {
    ...options,
    shell: false,
    stdio: [...stdio, 'pipe'],
  });
  const lifeline = child.stdio[watchdogFd] as Socket | null;
  if (lifeline) {
    // The pipe must not keep this process alive: spawn's own ref (child.unref()) decides that.
    lifeline.unref();
    lifeline.on('error', () => undefined).resume();
    // Closing our end once the newline is flushed lets 'close' fire without waiting for the watchdog.
    child.once('exit', () => lifeline.end('\n', () => lifeline.destroy()));
  }
  return child;
}

/** spawn fills missing entries of the first three with 'pipe'. */
function normaliseStdio(stdio: StdioOptions | undefined): Exclude<StdioOptions, string> {
  if (stdio === undefined || typeof stdio === 'string') return Array<typeof stdio>(3).fill(stdio ?? 'pipe');
  const entries = [...stdio];
  while (entries.length < 3) entries.push('pipe');
  return entries;
}

/**
 * `$$` in the subshell is the wrapper's pid, which becomes the server's through `exec`. `read` succeeds on the
 * newline sent when the server exited, and fails on EOF when this process died. The watchdog keeps only the pipe
 * open, so it never holds the server's stdout/stderr; the server gets every stdio entry but the pipe.
 */
function wrapperScript(fd: number): string {
  const closeOthers = Array.from({ length: fd - 3 }, (_, i) => ` ${i + 3}>&-`).join('');
  const stopServer = `kill -TERM $$; sleep ${ORPHAN_GRACE_SECONDS}; kill -0 $$ && kill -KILL $$`;
  return [
    `( read -r line <&${fd} || { ${stopServer}; } ) </dev/null >/dev/null 2>&1${closeOthers} &`,
    `exec "$@" ${fd}<&-`,
  ].join('\n');
}
