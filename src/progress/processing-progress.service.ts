import { Injectable, Logger } from '@nestjs/common';
import { ControlBus, Unsubscribe } from '../coordination';
import { ProcessingProgress } from './progress-view';
import { UploadProgressService } from './upload-progress.service';

const channelOf = (userId: string, uploadId: string) => `processing:${userId}/${uploadId}`;

/**
 * The processing of completed uploads in their progress view: the runner reports each change here (written to the
 * upload's progress record, then announced on the control bus), and SSE streams on any instance re-read the view
 * when told. With REDIS_URL the announcement reaches every instance; without it, this one.
 */
@Injectable()
export class ProcessingProgressService {
  private readonly logger = new Logger(ProcessingProgressService.name);

  constructor(
    private readonly records: UploadProgressService,
    private readonly bus: ControlBus,
  ) {}

  /** Never throws: progress is a view of the media record, which holds the truth. */
  async report(userId: string, uploadId: string, processing: ProcessingProgress): Promise<void> {
    try {
      await this.records.setProcessing(userId, uploadId, processing);
      await this.bus.publish(channelOf(userId, uploadId), { status: processing.status });
    } catch (error) {
      this.logger.warn(`processing progress of ${uploadId} not shared: ${(error as Error).message}`);
    }
  }

  /** Calls `onChange` after every report for this upload, from any instance; resolves once subscribed. */
  follow(userId: string, uploadId: string, onChange: () => void): Promise<Unsubscribe> {
    return this.bus.subscribe(channelOf(userId, uploadId), () => onChange());
  }
}
