import { Transform, TransformCallback } from 'node:stream';

/** Passes bytes through and counts them. */
export class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Passes at most `length` bytes and reports (through `onMismatch`, which must cut the request) a body that is
 * longer or ends shorter: a part sent with a Content-Length its body does not match would leave the request
 * waiting for bytes that never come. It never errors itself: the SDK re-emits body errors on streams nobody
 * listens to.
 */
export class ExactLength extends Transform {
  private seen = 0;

  constructor(
    private readonly length: number,
    private readonly onMismatch: (error: Error) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen <= this.length) return done(null, chunk);
    this.onMismatch(new Error(`the part body is longer than its ${this.length} bytes`));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.seen < this.length) {
      this.onMismatch(new Error(`the part body ended after ${this.seen} of ${this.length} bytes`));
    }
    done();
  }
}
