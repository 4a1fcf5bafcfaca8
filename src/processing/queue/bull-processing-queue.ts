import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { REDIS_PREFIX } from '../../coordination';
import type { MediaRecordsService } from '../../media';
import type { ProcessingJob } from '../processing-state';
import { ProcessingQueue } from './processing-queue';
import type { ProcessingRunner, RunOutcome } from './processing-runner';
import { jobIdOf, requeueUnprocessed, type QueueSettings } from './queue-settings';

/** Redis keys: `media-upload:bull:processing:*` (the failed set is `…:failed`, see docs/operations.md). */
export const PROCESSING_QUEUE_NAME = 'processing';
const PREFIX = `${REDIS_PREFIX}bull`;
/** Finished jobs kept for inspection: bounded in count and age. */
const KEEP_COMPLETED = { count: 1000, age: 24 * 3600 };
const KEEP_FAILED = { count: 10_000, age: 14 * 24 * 3600 };
/** Longest the shutdown waits for the worker and queue to close. */
const CLOSE_TIMEOUT_MS = 10_000;

type ProcessingQueueJob = Job<ProcessingJob, RunOutcome, string>;

/**
 * The processing queue across instances (REDIS_URL): BullMQ on the shared Redis, a worker on every instance
 * running at most PROCESSING_CONCURRENCY jobs. One job per upload (jobId `<userId>/<uploadId>`), retried with
 * exponential backoff up to PROCESSING_ATTEMPTS; a job whose instance died is taken over once its lock
 * (PROCESSING_LOCK_MS) expires. The media record stays the truth: the runner decides when a job has failed for good.
 */
export class BullProcessingQueue
  extends ProcessingQueue
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(BullProcessingQueue.name);
  private readonly queue: Queue<ProcessingQueueJob>;
  private worker?: Worker<ProcessingJob, RunOutcome, string>;
  private readonly shutdown = new AbortController();

  /**
   * BullMQ opens (and closes) connections of its own from REDIS_URL: it ships its own ioredis, and its worker
   * blocks on a connection with `maxRetriesPerRequest: null`, unlike the shared one.
   */
  constructor(
    private readonly redisUrl: string,
    private readonly runner: ProcessingRunner,
    private readonly records: MediaRecordsService,
    private readonly settings: QueueSettings,
  ) {
    super();
    this.queue = new Queue<ProcessingQueueJob>(PROCESSING_QUEUE_NAME, {
      connection: { url: redisUrl, connectionName: 'media-upload:processing-queue' },
      prefix: PREFIX,
      defaultJobOptions: {
        attempts: settings.attempts,
        backoff: { type: 'exponential', delay: settings.retryDelayMs },
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      },
    });
    this.queue.on('error', (error) => this.logger.warn(`processing queue: ${error.message}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker = new Worker<ProcessingJob, RunOutcome, string>(
      PROCESSING_QUEUE_NAME,
      (job) => this.process(job),
      {
        connection: { url: this.redisUrl, connectionName: 'media-upload:processing-worker' },
        prefix: PREFIX,
        concurrency: this.settings.concurrency,
        lockDuration: this.settings.lockMs,
        stalledInterval: this.settings.lockMs,
        // A job whose instance died goes back to the queue (not to failed) as often as it may be attempted.
        maxStalledCount: this.settings.attempts,
      },
    );
    this.worker.on('error', (error) => this.logger.warn(`processing worker: ${error.message}`));
    await requeueUnprocessed(this.records, this, this.logger);
  }

  /**
   * Stops taking jobs, aborts the running ones (they record `pending` and go back to the queue), then disconnects;
   * bounded, so an unreachable Redis cannot hold the shutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    const closing = (async () => {
      await this.worker?.close().catch((error: Error) => this.logger.warn(`worker close: ${error.message}`));
      await this.queue.close().catch((error: Error) => this.logger.warn(`queue close: ${error.message}`));
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    await Promise.race([closing, late]);
    clearTimeout(timer);
  }

  async enqueue(job: ProcessingJob): Promise<void> {
    if (this.shutdown.signal.aborted) return;
    const jobId = jobIdOf(job);
    // A finished job keeps its id until it is removed (KEEP_*); it would swallow a re-queue of an unfinished record.
    const earlier = await Job.fromId<ProcessingJob, RunOutcome>(this.queue, jobId);
    if (earlier && (earlier.finishedOn ?? 0) > 0) await earlier.remove().catch(() => undefined);
    await this.queue.add('process', job, { jobId });
  }

  async restart(job: ProcessingJob): Promise<void> {
    await this.runner.reset(job);
    await this.enqueue(job);
  }

  private async process(job: ProcessingQueueJob): Promise<RunOutcome> {
    const outcome = await this.runner.run(job.data, this.shutdown.signal);
    // Thrown, so BullMQ retries (backoff) or keeps the job in its failed set; the record holds the reason.
    if (outcome === 'failed') throw new UnrecoverableError('processing failed (see the media record)');
    if (outcome === 'retry') throw new Error('processing attempt failed (see the media record)');
    if (outcome === 'interrupted') throw new Error('processing interrupted by a shutdown');
    return outcome;
  }
}
