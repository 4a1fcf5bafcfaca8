import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** State and parent of a Linux process from /proc/<pid>/stat (the command name may hold spaces and parens). */
function procStat(pid: number): { state: string; ppid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    return { state, ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** True while `pid` runs; an exited process still waiting to be reaped (a zombie) counts as gone. */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Resolves once `pid` is gone (not our child, so no exit event to await); throws after `timeoutMs`. */
export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** The live direct children of `pid`, with their command names (Linux). */
export function childProcesses(pid: number): { pid: number; comm: string }[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => ({ pid: Number(entry), stat: procStat(Number(entry)) }))
    .filter(({ stat }) => stat?.ppid === pid && stat.state !== 'Z')
    .map(({ pid: child, stat }) => ({ pid: child, comm: stat!.comm }));
}
