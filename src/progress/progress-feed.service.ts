import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isTerminal } from '../common/uploads/upload-status';
import type { AppConfig } from '../config';
import { ProcessingProgressService } from './processing-progress.service';
import { ProgressSource } from './progress-stream';
import { ProgressView } from './progress-view';
import { ProgressTracker } from './progress-tracker.service';
import { SharedProgress } from './shared-progress';

/**
 * A progress source for one upload: pushed from memory while this instance holds the upload, polled from
 * MongoDB (at the persist rate) while another instance does or before the bytes start flowing here. With
 * REDIS_URL, the holder's views also arrive over the bus (one subscription per upload on this instance, however
 * many SSE clients follow it), and polls read the holder's shared copy. After completion, each processing report
 * (from whichever instance runs the job) triggers a fresh read.
 */
@Injectable()
export class ProgressFeedService {
  private readonly logger = new Logger(ProgressFeedService.name);
  private readonly pollMs: number;

  constructor(
    private readonly tracker: ProgressTracker,
    private readonly shared: SharedProgress,
    private readonly processing: ProcessingProgressService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.pollMs = config.get('uploads', { infer: true }).progressPersistMs;
  }

  feed(userId: string, uploadId: string): ProgressSource {
    return {
      subscribe: (sink: (view: ProgressView) => void) => {
        let detachLive: (() => void) | undefined;
        let stopped = false;
        const push = this.shared.enabled ? newerOnly(sink) : sink;
        const poll = async () => {
          if (stopped) return;
          const live = this.tracker.get(userId, uploadId);
          if (live && !detachLive) detachLive = live.subscribe(push);
          const view = await this.tracker.view(userId, uploadId);
          if (view && !stopped) push(view);
        };
        // Polling continues even when attached live, so a live upload that ends still yields its final view.
        const timer = setInterval(() => void poll(), this.pollMs);
        void poll();
        const following = this.shared
          .follow(userId, uploadId, (view) => {
            if (!stopped && !this.tracker.get(userId, uploadId)) push(view);
          })
          .catch((error: Error) => {
            this.logger.warn(`following the progress of ${uploadId} failed: ${error.message}`);
            return () => Promise.resolve();
          });
        const processing = this.processing
          .follow(userId, uploadId, () => void poll())
          .catch((error: Error) => {
            this.logger.warn(`following the processing of ${uploadId} failed: ${error.message}`);
            return () => Promise.resolve();
          });
        return () => {
          stopped = true;
          clearInterval(timer);
          detachLive?.();
          for (const subscription of [following, processing])
            void subscription.then((unfollow) => unfollow()).catch(() => undefined);
        };
      },
    };
  }
}

/** Drops a view older than one already pushed (a poll answer overtaken by the bus), but never the end. */
function newerOnly(push: (view: ProgressView) => void): (view: ProgressView) => void {
  let latest = 0;
  return (view) => {
    const at = view.lastUpdateTime.getTime();
    if (at < latest && !isTerminal(view.status)) return;
    latest = Math.max(latest, at);
    push(view);
  };
}
