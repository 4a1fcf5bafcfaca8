import { PassThrough, type Readable, Writable } from 'node:stream';

/** Bytes queued between the caller and the part writer: small, the part buffers do the batching. */
const QUEUE_BYTES = 256 * 1024;

/** What the stream writes through: `S3ObjectStore.write` (one object), or a TailWriter (an assembly's pieces). */
export interface ObjectWriter {
  write(key: string, source: Readable, options: { signal?: AbortSignal }): Promise<unknown>;
}

/**
 * A Writable into a new S3 object, for code that pipes into a stream (`StorageDriver.openWrite`): the bytes go
 * through `S3ObjectStore.write` (bounded part buffers, backpressure). 'finish' is emitted only once S3 has the whole
 * object; an S3 failure destroys the stream with StorageUnavailableError; a stream destroyed before its end (the
 * client went away, a cancel, a failed meter) aborts the write (the store aborts its multipart upload; a TailWriter
 * keeps its whole pieces), and its 'close' waits until nothing is in flight any more.
 */
export class S3WriteStream extends Writable {
  private readonly body = new PassThrough({ highWaterMark: QUEUE_BYTES });
  private readonly abort = new AbortController();
  private readonly stored: Promise<unknown>;
  private waiting?: (error?: Error | null) => void;
  private failure?: Error;
  private completed = false;
  private ending = false;

  constructor(store: ObjectWriter, key: string) {
    super();
    this.stored = store.write(key, this.body, { signal: this.abort.signal }).then(
      () => (this.completed = true),
      (error: Error) => {
        this.failure = error;
        this.release(error);
        // While ending, `_final` reports it; after an abort, the destroy that caused it is under way.
        if (!this.ending && !this.abort.signal.aborted) this.destroy(error);
      },
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.failure) return done(this.failure);
    if (this.body.write(chunk)) return done();
    this.waiting = done;
    this.body.once('drain', () => this.release());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.ending = true;
    this.body.end();
    void this.stored.then(() => done(this.failure));
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.release(error ?? undefined);
    if (!this.completed) {
      this.abort.abort(error ?? new Error('the write stream was destroyed before its end'));
    }
    // 'close' comes once the store has aborted (or completed) the upload: nothing is left in flight after it.
    void this.stored.then(() => done(error));
  }

  private release(error?: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(error);
  }
}
