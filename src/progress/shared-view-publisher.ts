import { Logger } from '@nestjs/common';
import type { LiveUpload } from './live-upload';
import { ProgressView } from './progress-view';

/** Where a held upload's view goes: the short-lived copy other instances read, and the bus their SSE follows. */
export interface ViewSink {
  store(view: ProgressView): Promise<void>;
  /** The terminal view: the database holds it now, so the copy goes and only the bus hears of it. */
  storeFinal(view: ProgressView): Promise<void>;
}

/**
 * Shares one held upload's view at a bounded rate: at most one write every `intervalMs` while bytes flow (a
 * network chunk only flips a flag), never two writes in flight, and the terminal view after every earlier write.
 */
export class SharedViewPublisher {
  private readonly logger = new Logger(SharedViewPublisher.name);
  private readonly unwatch: () => void;
  private timer?: NodeJS.Timeout;
  private lastAt = 0;
  private writing: Promise<void> = Promise.resolve();
  private inFlight = false;
  private changedMeanwhile = false;
  private stopped = false;

  constructor(
    private readonly upload: LiveUpload,
    private readonly sink: ViewSink,
    private readonly intervalMs: number,
  ) {
    this.unwatch = upload.watch(() => this.schedule());
    this.schedule();
  }

  /** Shares the terminal view once the writes before it landed, then stops. */
  async finish(): Promise<void> {
    this.stop();
    await this.writing;
    await this.sink.storeFinal(this.upload.view()).catch((error: Error) => this.warn(error));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unwatch();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    if (this.inFlight) return void (this.changedMeanwhile = true);
    this.timer = setTimeout(() => this.write(), Math.max(0, this.lastAt + this.intervalMs - Date.now()));
    this.timer.unref();
  }

  private write(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.lastAt = Date.now();
    this.inFlight = true;
    this.writing = this.sink
      .store(this.upload.view())
      .catch((error: Error) => this.warn(error))
      .finally(() => {
        this.inFlight = false;
        if (this.changedMeanwhile) {
          this.changedMeanwhile = false;
          this.schedule();
        }
      });
  }

  private warn(error: Error): void {
    this.logger.warn(`sharing the progress of ${this.upload.uploadId} failed: ${error.message}`);
  }
}
