import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { MediaRecordsService } from '../../media';
import type { ProcessingJob } from '../processing-state';
import { ProcessingQueue } from './processing-queue';
import { ProcessingRunner, RunOutcome } from './processing-runner';
import { backoffDelay, jobIdOf, requeueUnprocessed, type QueueSettings } from './queue-settings';

/**
 * The processing queue of a single instance (no REDIS_URL): jobs wait in memory, at most PROCESSING_CONCURRENCY
 * run at once, a failed attempt is retried after an exponential backoff, and an upload already waiting, running
 * or waiting for its retry is not queued twice. Nothing is lost to a restart: on startup every completed upload
 * whose record is still `pending` or `running` (a kill -9 mid-job) is queued again.
 */
export class InProcessProcessingQueue
  extends ProcessingQueue
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(InProcessProcessingQueue.name);
  private readonly waiting: ProcessingJob[] = [];
  /** Every job waiting, running or waiting for a retry, by jobId, with the attempts it made here. */
  private readonly known = new Map<string, number>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();

  constructor(
    private readonly runner: ProcessingRunner,
    private readonly records: MediaRecordsService,
    private readonly settings: QueueSettings,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await requeueUnprocessed(this.records, this, this.logger);
  }

  /**
   * Stops taking jobs, aborts the running ones (their tools are killed) and waits for them to record it, before
   * the database connection closes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    this.waiting.length = 0;
    await Promise.allSettled([...this.running]);
  }

  enqueue(job: ProcessingJob): Promise<void> {
    const id = jobIdOf(job);
    if (this.shutdown.signal.aborted || this.known.has(id)) return Promise.resolve();
    this.known.set(id, 0);
    this.waiting.push(job);
    this.drain();
    return Promise.resolve();
  }

  async restart(job: ProcessingJob): Promise<void> {
    await this.runner.reset(job);
    await this.enqueue(job);
  }

  private drain(): void {
    while (this.running.size < this.settings.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      const work = this.work(job).finally(() => {
        this.running.delete(work);
        this.drain();
      });
      this.running.add(work);
    }
  }

  private async work(job: ProcessingJob): Promise<void> {
    const id = jobIdOf(job);
    const made = (this.known.get(id) ?? 0) + 1;
    this.known.set(id, made);
    const outcome = await this.runner.run(job, this.shutdown.signal).catch((error: Error): RunOutcome => {
      // The runner could not even record (database down): retry within this instance's attempts.
      this.logger.error(`processing of ${job.uploadId} failed: ${error.message}`);
      return made < this.settings.attempts ? 'retry' : 'failed';
    });
    if (outcome !== 'retry' || this.shutdown.signal.aborted) {
      this.known.delete(id);
      return;
    }
    const timer = setTimeout(
      () => {
        this.retries.delete(timer);
        this.waiting.push(job);
        this.drain();
      },
      backoffDelay(this.settings.retryDelayMs, made),
    );
    this.retries.add(timer);
  }
}
