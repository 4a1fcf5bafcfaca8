import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { ProgressSource } from './progress-stream';
import { ProgressView } from './progress-view';
import { ProgressTracker } from './progress-tracker.service';

/**
 * A progress source for one upload: pushed from memory while this instance holds the upload, polled from
 * MongoDB (at the persist rate) while another instance does or before the bytes start flowing here.
 */
@Injectable()
export class ProgressFeedService {
  private readonly pollMs: number;

  constructor(
    private readonly tracker: ProgressTracker,
    config: ConfigService<AppConfig, true>,
  ) {
    this.pollMs = config.get('uploads', { infer: true }).progressPersistMs;
  }

  feed(userId: string, uploadId: string): ProgressSource {
    return {
      subscribe: (push: (view: ProgressView) => void) => {
        let detachLive: (() => void) | undefined;
        let stopped = false;
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
        return () => {
          stopped = true;
          clearInterval(timer);
          detachLive?.();
        };
      },
    };
  }
}
