import { Logger } from '@nestjs/common';

interface PendingCleanup {
  what: string;
  run: () => Promise<void>;
}

const RETRY_EVERY_MS = 5_000;

/**
 * Cleanups (abort a multipart upload, delete an object) that failed because S3 was unreachable, retried in the
 * background until they succeed, so a failure path never leaves parts billed forever while this process lives.
 * After a crash, the sweeper's `abortIncompleteUploads(prefix, olderThan)` finds what is left.
 */
export class CleanupRetry {
  private readonly logger = new Logger('S3Cleanup');
  private readonly pending = new Map<string, PendingCleanup>();
  private timer?: NodeJS.Timeout;

  get size(): number {
    return this.pending.size;
  }

  /** Runs `run` now; if it fails, keeps it (once per `what`) for the next retry. */
  async attempt(what: string, run: () => Promise<void>): Promise<boolean> {
    try {
      await run();
      this.pending.delete(what);
      return true;
    } catch (error) {
      if (!this.pending.has(what))
        this.logger.warn(`${what} failed, retrying in the background: ${String(error)}`);
      this.pending.set(what, { what, run });
      this.schedule();
      return false;
    }
  }

  /** Retries every pending cleanup once; resolves with how many are still pending. */
  async flush(): Promise<number> {
    for (const { what, run } of [...this.pending.values()]) {
      try {
        await run();
        this.pending.delete(what);
      } catch {
        // stays pending
      }
    }
    if (this.pending.size > 0) this.schedule();
    return this.pending.size;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, RETRY_EVERY_MS);
    this.timer.unref();
  }
}
