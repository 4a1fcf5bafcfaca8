import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

/** Why a tool run failed: it could not start, ran out of time, printed too much, or exited non-zero. */
export type ToolFailureKind = 'spawn' | 'timeout' | 'output-limit' | 'exit' | 'aborted';

export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';
  constructor(
    readonly kind: ToolFailureKind,
    message: string,
    /** The end of what the tool wrote to stderr (its own reason), when it ran. */
    public stderr = '',
  ) {
    super(message);
  }
}

export interface RunToolOptions {
  /** The tool is killed (SIGKILL) past this. */
  timeoutMs: number;
  /** Stdout kept at most; more kills the tool (a hostile file cannot make the probe's output unbounded). */
  maxStdoutBytes: number;
  signal?: AbortSignal;
  /** Runs the tool at a lower CPU priority (nice 10), so background work never slows uploads down. */
  lowPriority?: boolean;
}

/** How much of stderr is kept for the error message. */
const STDERR_TAIL = 4096;

/**
 * Runs a media tool (ffprobe, ffmpeg, heif-convert, the image worker) as a child process without a shell, with a
 * time limit, bounded output and optional low priority, and answers its stdout. A crash or a hostile file ends
 * the child, never this process.
 */
export function runTool(command: string, args: string[], options: RunToolOptions): Promise<Buffer> {
  const name = command.split('/').pop() ?? command;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new ToolFailure('aborted', `${name} not started: aborted`));
      return;
    }
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (options.lowPriority && child.pid !== undefined) {
      try {
        setPriority(child.pid, 10);
      } catch {
        // The child may have exited already; priority is a courtesy, not a requirement.
      }
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let failure: ToolFailure | undefined;
    const stop = (reason: ToolFailure) => {
      failure ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new ToolFailure('timeout', `${name} did not finish within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onAbort = () => stop(new ToolFailure('aborted', `${name} aborted`));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (data: Buffer) => {
      stdoutBytes += data.length;
      if (stdoutBytes > options.maxStdoutBytes) {
        stop(new ToolFailure('output-limit', `${name} wrote more than ${options.maxStdoutBytes} bytes`));
        return;
      }
      stdout.push(data);
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr = (stderr + data.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.on('error', (error) => {
      failure ??= new ToolFailure('spawn', `${name} could not start: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const tail = stderr.trim();
      if (failure) {
        failure.stderr = tail;
        reject(failure);
      } else if (code !== 0) {
        const last = tail.split('\n').pop() ?? '';
        reject(
          new ToolFailure(
            'exit',
            `${name} failed (${signal ?? `exit ${code}`})${last ? `: ${last}` : ''}`,
            tail,
          ),
        );
      } else resolve(Buffer.concat(stdout));
    });
  });
}
