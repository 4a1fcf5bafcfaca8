import type { ProcessingJob } from '../processing-state';

/**
 * Where completed uploads wait for their processing (thumbnails, poster, rendition). BullMQ on Redis when
 * REDIS_URL is set (jobs survive a restart, any instance works them), otherwise an in-process queue whose
 * unfinished work is found again on startup from the records. Enqueueing the same upload twice runs it once.
 */
export abstract class ProcessingQueue {
  abstract enqueue(job: ProcessingJob): Promise<void>;
}
