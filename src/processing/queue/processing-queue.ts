import type { ProcessingJob } from '../processing-state';

/**
 * Where completed uploads wait for their processing (thumbnails, poster, rendition). BullMQ on Redis when
 * REDIS_URL is set (jobs survive a restart, any instance works them), otherwise an in-process queue whose
 * unfinished work is found again on startup from the records. Enqueueing the same upload twice runs it once.
 */
export abstract class ProcessingQueue {
  abstract enqueue(job: ProcessingJob): Promise<void>;

  /**
   * Runs a completed upload's processing again from its first attempt (after it failed for good, e.g. on a tool
   * the operator has since installed, or to remake its files): its record goes back to `pending` with no attempt
   * counted, then it is queued. The caller checks it is not pending or running.
   */
  abstract restart(job: ProcessingJob): Promise<void>;
}
