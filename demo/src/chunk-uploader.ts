import { multipart, type ApiClient, type Schemas } from '../../client';
import { randomId, sha256Hex, sleep } from './format';

export type ChunkReply = Schemas['ChunkUploadDataDto'];
export type ChunkStatus = Schemas['ChunkStatusDataDto'];

export interface ChunkUploaderEvents {
  /** A chunk (or the final request) was acknowledged. */
  onAck?(uploader: ChunkUploader): void;
  /** A request failed and will be retried after `delayMs`, resuming from GET /api/video/status. */
  onRetry?(attempt: number, delayMs: number, reason: string): void;
  /** The server's view after a failure: what it holds, where the upload resumes. */
  onResync?(status: ChunkStatus): void;
}

/** Errors worth retrying: the network, timeouts, rate limits and server errors. Anything else stops the upload. */
class FatalUploadError extends Error {}

const MAX_RETRY_DELAY_MS = 5000;

/**
 * Uploads a recording through the seed chunk API while it is still being recorded: one request per MediaRecorder
 * chunk, in order, then a bare `status=completed` request once the recorder stopped. After any failure it waits
 * (exponential backoff, cut short when the browser comes back online), asks GET /api/video/status/:fileId what the
 * server holds, and carries on from there, so a chunk that arrived before the connection broke is not sent twice.
 */
export class ChunkUploader {
  readonly fileId = randomId('rec');
  readonly chunks: Blob[] = [];
  uploadId?: string;
  result?: ChunkReply;
  private readonly acked = new Set<number>();
  private queue: number[] = [];
  private stopped = false;
  private failed?: Error;
  private running = false;
  private settle!: { resolve(reply: ChunkReply): void; reject(error: Error): void };
  private readonly done = new Promise<ChunkReply>((resolve, reject) => (this.settle = { resolve, reject }));

  constructor(
    private readonly api: ApiClient,
    private readonly fields: { title: string; fileType: 'video' | 'camera' },
    private readonly events: ChunkUploaderEvents = {},
  ) {
    // Nobody may be awaiting `done` yet when it fails; the rejection is still delivered by finish().
    this.done.catch(() => undefined);
  }

  get producedBytes(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.size, 0);
  }

  get ackedBytes(): number {
    let sum = 0;
    for (const index of this.acked) sum += this.chunks[index]?.size ?? 0;
    return sum;
  }

  get isComplete(): boolean {
    return this.result !== undefined;
  }

  /** Queues a chunk from MediaRecorder's dataavailable. Empty chunks (some browsers emit one on stop) are skipped. */
  push(chunk: Blob): void {
    if (chunk.size === 0 || this.stopped) return;
    this.chunks.push(chunk);
    this.queue.push(this.chunks.length - 1);
    this.kick();
  }

  /** Call after the recorder's `stop` event: resolves with the final reply once the server assembled the file. */
  finish(): Promise<ChunkReply> {
    this.stopped = true;
    if (this.chunks.length === 0) this.fail(new FatalUploadError('Nothing was recorded'));
    this.kick();
    return this.done;
  }

  private kick(): void {
    if (this.running || this.failed || this.result) return;
    this.running = true;
    void this.pump().finally(() => {
      this.running = false;
      if (this.queue.length > 0 || (this.stopped && !this.result)) this.kick();
    });
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    while (!this.failed && !this.result) {
      const next = this.queue[0];
      if (next === undefined && !this.stopped) return;
      try {
        if (next !== undefined) {
          await this.send(next);
          this.queue.shift();
        } else {
          this.succeed(await this.complete());
        }
        attempt = 0;
      } catch (error) {
        if (error instanceof FatalUploadError) return this.fail(error);
        attempt += 1;
        const delayMs = Math.min(500 * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
        this.events.onRetry?.(attempt, delayMs, (error as Error).message);
        await waitForNetwork(delayMs);
        await this.resync().catch(() => undefined); // still offline: the next attempt fails and waits again
      }
    }
  }

  private async send(index: number): Promise<void> {
    const chunk = this.chunks[index];
    const form = new FormData();
    // Fields before the file, so the server knows the session while the bytes stream.
    form.append('fileId', this.fileId);
    form.append('chunkIndex', String(index));
    form.append('status', 'uploading');
    form.append('fileType', this.fields.fileType);
    if (index === 0) form.append('title', this.fields.title);
    form.append('chunkSha256', await sha256Hex(chunk));
    form.append('file', chunk, `${this.fileId}-${index}.part`);
    const reply = await this.post(form);
    this.uploadId = reply.uploadId;
    this.acked.add(index);
    this.events.onAck?.(this);
  }

  /** The bare finalising request: no file, `chunkIndex` = the last index, so the server checks none is missing. */
  private async complete(): Promise<ChunkReply> {
    const form = new FormData();
    form.append('fileId', this.fileId);
    form.append('chunkIndex', String(this.chunks.length - 1));
    form.append('status', 'completed');
    form.append('fileType', this.fields.fileType);
    return this.post(form);
  }

  private async post(form: FormData): Promise<ChunkReply> {
    const { data, error, response } = await this.api.POST(
      '/api/video/upload',
      multipart<Schemas['UploadChunkBodyDto']>(form),
    );
    if (data) return data.data;
    const status = response.status;
    const message = error?.message ?? `HTTP ${status}`;
    // 409 CHUNKS_MISSING is fixed by the resync; other 4xx will not get better by retrying.
    if (status >= 500 || status === 408 || status === 429 || error?.error === 'CHUNKS_MISSING') {
      throw new Error(message);
    }
    throw new FatalUploadError(message);
  }

  /** Asks the server what it holds and rebuilds the queue from that. */
  private async resync(): Promise<void> {
    const { data, response } = await this.api.GET('/api/video/status/{fileId}', {
      params: { path: { fileId: this.fileId } },
    });
    if (!data) throw new Error(`HTTP ${response.status}`);
    const status = data.data;
    this.events.onResync?.(status);
    if (status.status === 'completed' && status.uploadId) {
      // The finalising request went through but its answer was lost.
      this.acked.clear();
      this.chunks.forEach((_, index) => this.acked.add(index));
      return this.succeed({
        message: 'Video upload completed',
        fileId: this.fileId,
        chunkIndex: this.chunks.length - 1,
        status: 'completed',
        uploadId: status.uploadId,
        duplicate: true,
        receivedCount: status.receivedChunks.length,
        nextChunkIndex: status.nextChunkIndex,
        totalChunks: status.totalChunks,
        bytesReceived: status.fileSize,
        fileUrl: status.fileUrl ?? undefined,
        fileSize: status.fileSize,
      });
    }
    if (status.status === 'cancelled' || status.status === 'expired' || status.status === 'failed') {
      return this.fail(new FatalUploadError(`The upload was ${status.status} on the server`));
    }
    const received = new Set(status.exists ? status.receivedChunks : []);
    this.acked.clear();
    received.forEach((index) => this.acked.add(index));
    this.queue = this.chunks.map((_, index) => index).filter((index) => !received.has(index));
    if (status.uploadId) this.uploadId = status.uploadId;
  }

  private succeed(reply: ChunkReply): void {
    this.result = reply;
    this.uploadId = reply.uploadId;
    this.events.onAck?.(this);
    this.settle.resolve(reply);
  }

  private fail(error: Error): void {
    this.failed ??= error;
    this.settle.reject(error);
  }
}

/** Waits `ms`, or less when the browser reports it is back online. */
function waitForNetwork(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      window.removeEventListener('online', onOnline);
      clearTimeout(timer);
      resolve();
    };
    const onOnline = () => void sleep(200).then(done);
    const timer = setTimeout(done, ms);
    window.addEventListener('online', onOnline);
  });
}
