import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * A Writable whose target is opened asynchronously (`open`: checks first, then a stream into S3): writes wait for
 * it, then go straight through with the target's backpressure. A failed `open` fails the stream; 'finish' comes
 * once the target has finished (S3 holds the bytes); destroying it destroys the target, and 'close' waits for the
 * target's (nothing of the write is in flight by then).
 */
export class DeferredWritable extends Writable {
  private target?: Writable;

  constructor(private readonly open: () => Promise<Writable>) {
    super();
  }

  override _construct(done: (error?: Error | null) => void): void {
    this.open().then((target) => {
      this.target = target;
      target.on('error', (error) => this.destroy(error));
      done();
    }, done);
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.target!.write(chunk, encoding)) return done();
    this.target!.once('drain', () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.target!.end();
    finished(this.target!).then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const target = this.target;
    if (!target || target.closed) return done(error);
    target.once('close', () => done(error));
    if (!target.destroyed) target.destroy(error ?? undefined);
  }
}
