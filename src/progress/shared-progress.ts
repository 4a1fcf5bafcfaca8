import { Logger } from '@nestjs/common';
import { ControlBus, ControlMessage, RedisExpiringValues, Unsubscribe } from '../coordination';
import { isTerminal } from '../common/uploads/upload-status';
import type { LiveUpload } from './live-upload';
import { ProgressView } from './progress-view';
import { SharedViewPublisher } from './shared-view-publisher';

/** One view write per upload per this while bytes flow: GET and SSE on other instances lag by about this much. */
const SHARE_INTERVAL_MS = 100;
/** The shared copy outlives the last write by this; after it, readers fall back to the (persisted) record. */
const VIEW_TTL_MS = 3_000;
/** How long a cancel waits for the holder to say it has the upload, then for it to have ended the upload. */
const CANCEL_ACK_MS = 300;
const CANCEL_CONFIRM_MS = 5_000;
const CANCEL_CHANNEL = 'progress:cancel';

const keyOf = (userId: string, uploadId: string) => `${userId}/${uploadId}`;
const channelOf = (userId: string, uploadId: string) => `progress:${keyOf(userId, uploadId)}`;

type JsonView = Omit<ProgressView, 'startTime' | 'lastUpdateTime' | 'completedTime'> & {
  startTime: string;
  lastUpdateTime: string;
  completedTime: string | null;
};

/**
 * Live progress across instances (REDIS_URL set; docs/architecture.md, "Coordination"). The instance holding an
 * upload keeps a short-lived copy of its view in Redis and publishes it on the upload's bus channel, at a bounded
 * rate and on its terminal status; GET progress elsewhere reads the copy, SSE elsewhere follows the channel.
 * Cancel requests go to every instance and the holder aborts the stream. Without Redis every method is a no-op,
 * so one instance behaves exactly as before.
 */
export class SharedProgress {
  private readonly logger = new Logger(SharedProgress.name);
  private readonly publishers = new Map<LiveUpload, SharedViewPublisher>();

  constructor(
    private readonly values: RedisExpiringValues | null,
    private readonly bus: ControlBus,
  ) {}

  get enabled(): boolean {
    return this.values !== null;
  }

  /** Starts sharing an upload this instance now holds. */
  share(upload: LiveUpload): void {
    const values = this.values;
    if (!values || this.publishers.has(upload)) return;
    const key = keyOf(upload.userId, upload.uploadId);
    const channel = channelOf(upload.userId, upload.uploadId);
    const sink = {
      store: async (view: ProgressView) => {
        await values.set(key, view, VIEW_TTL_MS);
        await this.bus.publish(channel, { type: 'view', view });
      },
      storeFinal: async (view: ProgressView) => {
        await values.delete(key);
        await this.bus.publish(channel, { type: 'view', view });
      },
    };
    this.publishers.set(upload, new SharedViewPublisher(upload, sink, SHARE_INTERVAL_MS));
  }

  /** Shares the terminal view (after the record holds it) and stops sharing. Never throws. */
  async ended(upload: LiveUpload): Promise<void> {
    const publisher = this.publishers.get(upload);
    this.publishers.delete(upload);
    await publisher?.finish();
  }

  /** Stops every timer (shutdown); the copies expire by themselves. */
  stopAll(): void {
    for (const publisher of this.publishers.values()) publisher.stop();
    this.publishers.clear();
  }

  /** The copy another instance shares, or null (none, expired, or Redis unreachable: read the record instead). */
  async read(userId: string, uploadId: string): Promise<ProgressView | null> {
    if (!this.values) return null;
    try {
      const view = await this.values.get<JsonView>(keyOf(userId, uploadId));
      return view && revive(view);
    } catch (error) {
      this.logger.warn(`reading the shared progress of ${uploadId} failed: ${(error as Error).message}`);
      return null;
    }
  }

  /** Calls `onView` with every view the holder publishes; resolves once subscribed. */
  async follow(
    userId: string,
    uploadId: string,
    onView: (view: ProgressView) => void,
    onCancelling: () => void = () => undefined,
  ): Promise<Unsubscribe> {
    if (!this.enabled) return () => Promise.resolve();
    return this.bus.subscribe(channelOf(userId, uploadId), (message: ControlMessage) => {
      if (message.type === 'view') onView(revive(message.view as JsonView));
      else if (message.type === 'cancelling') onCancelling();
    });
  }

  /**
   * Asks whichever instance holds the upload to cancel it. True once the holder ended it (its terminal view
   * came); false when no holder answered within CANCEL_ACK_MS or it did not finish within CANCEL_CONFIRM_MS.
   */
  async cancelOnHolder(userId: string, uploadId: string): Promise<boolean> {
    if (!this.enabled) return false;
    let settle!: (confirmed: boolean) => void;
    const outcome = new Promise<boolean>((resolve) => (settle = resolve));
    let acknowledged = false;
    let unanswered: NodeJS.Timeout | undefined;
    let unfinished: NodeJS.Timeout | undefined;
    let stop: Unsubscribe | undefined;
    try {
      stop = await this.follow(
        userId,
        uploadId,
        (view) => isTerminal(view.status) && settle(true),
        () => {
          acknowledged = true;
          clearTimeout(unanswered);
        },
      );
      await this.bus.publish(CANCEL_CHANNEL, { userId, uploadId });
      if (!acknowledged) unanswered = setTimeout(() => settle(false), CANCEL_ACK_MS);
      unfinished = setTimeout(() => settle(false), CANCEL_CONFIRM_MS);
      return await outcome;
    } catch (error) {
      this.logger.warn(`cancel request for ${uploadId} not sent: ${(error as Error).message}`);
      return false;
    } finally {
      clearTimeout(unanswered);
      clearTimeout(unfinished);
      await stop?.().catch(() => undefined);
    }
  }

  /**
   * Serves cancel requests from any instance: `holds` returns the upload when this instance holds it; it is
   * cancelled and the requester told at once.
   */
  async serveCancels(
    holds: (userId: string, uploadId: string) => { cancel(): Promise<void> } | undefined,
  ): Promise<Unsubscribe> {
    if (!this.enabled) return () => Promise.resolve();
    return this.bus.subscribe(CANCEL_CHANNEL, (message: ControlMessage) => {
      const { userId, uploadId } = message as { userId: string; uploadId: string };
      const held = holds(userId, uploadId);
      if (!held) return;
      // The stream is aborted synchronously by cancel(); the acknowledgement needs no wait for the cleanup.
      held
        .cancel()
        .catch((error: Error) => this.logger.error(`cancel of ${uploadId} failed: ${error.message}`));
      this.bus.publish(channelOf(userId, uploadId), { type: 'cancelling' }).catch(() => undefined);
    });
  }
}

function revive(view: JsonView): ProgressView {
  return {
    ...view,
    startTime: new Date(view.startTime),
    lastUpdateTime: new Date(view.lastUpdateTime),
    completedTime: view.completedTime === null ? null : new Date(view.completedTime),
  };
}
