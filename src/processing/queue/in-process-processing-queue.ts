import { Injectable } from '@nestjs/common';
import type { ProcessingJob } from '../processing-state';
import { ProcessingQueue } from './processing-queue';

// TEMPORARY (replaced within this change): the real queues (BullMQ, in-process) are being written.
@Injectable()
export class InProcessProcessingQueue extends ProcessingQueue {
  enqueue(_job: ProcessingJob): Promise<void> {
    return Promise.resolve();
  }
}
