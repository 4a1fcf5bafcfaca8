import type { Logger } from '@nestjs/common';
import type { AppConfig } from '../../config';
import type { MediaRecordsService } from '../../media';
import type { ProcessingJob } from '../processing-state';
import type { ProcessingQueue } from './processing-queue';

/** The processing settings the queues use (PROCESSING_* in the README). */
export type QueueSettings = Pick<
  AppConfig['processing'],
  'concurrency' | 'attempts' | 'retryDelayMs' | 'lockMs'
>;

/** Records re-queued per startup; any beyond wait for the next one (oldest first, so none starves). */
const REQUEUE_LIMIT = 10_000;

/** One job per upload: the queue's dedupe key (`/`, since BullMQ refuses a custom id with one `:`). */
export function jobIdOf(job: ProcessingJob): string {
  return `${job.userId}/${job.uploadId}`;
}

/** Exponential backoff: `base` before the first retry, doubling after each further failed attempt. */
export function backoffDelay(base: number, attemptsMade: number): number {
  return base * 2 ** Math.max(0, attemptsMade - 1);
}

/**
 * Queues again every completed upload whose processing never finished: an enqueue lost between completion and
 * the queue, or a job that was running when its instance was killed. The queue's dedupe makes this safe to run on
 * every instance.
 */
export async function requeueUnprocessed(
  records: MediaRecordsService,
  queue: ProcessingQueue,
  logger: Logger,
): Promise<void> {
  try {
    const unprocessed = await records.findUnprocessed(REQUEUE_LIMIT);
    for (const record of unprocessed)
      await queue.enqueue({ userId: String(record.userId), uploadId: record.uploadId });
    if (unprocessed.length > 0)
      logger.log(`queued the processing of ${unprocessed.length} earlier upload(s)`);
  } catch (error) {
    logger.error(`unfinished processing not queued again: ${(error as Error).message}`);
  }
}
