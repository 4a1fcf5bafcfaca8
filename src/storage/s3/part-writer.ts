import { finished, Readable } from 'node:stream';
import { ByteCounter } from './byte-streams';
import { MAX_PARTS, MultipartRef, UploadedPart } from './s3-multipart-store';

/** What the part writer needs of the store: its multipart primitives and a plain PUT. */
export interface PartSink {
  createMultipart(key: string, options: { contentType?: string }): Promise<MultipartRef>;
  uploadPart(
    ref: MultipartRef,
    partNumber: number,
    body: Buffer,
    length: number,
    options: { signal?: AbortSignal },
  ): Promise<UploadedPart>;
  completeMultipart(ref: MultipartRef, parts: UploadedPart[]): Promise<{ etag: string }>;
  putObject(
    key: string,
    body: Buffer,
    options: { contentType?: string; signal?: AbortSignal },
  ): Promise<{ etag: string }>;
}

export interface PartWriteOptions {
  partSize: number;
  /** Parts sent at once; one more buffer fills meanwhile. */
  queueSize: number;
  signal?: AbortSignal;
  contentType?: string;
  /** Called once the multipart upload exists, so the caller can abort it whatever happens next. */
  onMultipart: (ref: MultipartRef) => void;
  /** Called when a small object's single PUT starts: if it fails or is cut, it may still have landed. */
  onPut: () => void;
}

/**
 * Streams `source` into a multipart upload through at most `queueSize + 1` part buffers, reused part after part:
 * memory is bounded by (queueSize + 1) × partSize and produces no garbage per part (lib-storage's `Upload`
 * concatenates a new buffer for every part, and the collector lets ~64 MiB of them pile up before it runs). An
 * object smaller than one part is one PUT. Reading waits while every buffer is in flight (backpressure).
 *
 * Rejects with the source's error, the signal's reason, or the first failed request's error, after every part in
 * flight has stopped; aborting the multipart upload is the caller's (see `onMultipart`). Never destroys `source`.
 */
export async function writeInParts(
  sink: PartSink,
  key: string,
  source: Readable,
  { partSize, queueSize, signal, contentType, onMultipart, onPut }: PartWriteOptions,
): Promise<{ size: number; etag: string }> {
  signal?.throwIfAborted();
  const counter = new ByteCounter();
  // The first failure, whatever it is, stops reading and cuts the parts in flight.
  const stop = new AbortController();
  let failure: Error | undefined;
  const fail = (error: unknown) => {
    failure ??= error as Error;
    stop.abort(error);
    counter.destroy();
  };
  // A function, so that TypeScript does not narrow `failure`, which callbacks set meanwhile.
  const throwIfFailed = () => {
    if (failure) throw failure;
  };
  // A source that fails or closes before its end would otherwise leave the writer waiting for more bytes.
  const stopWatching = finished(source, { writable: false }, (error) => error && fail(error));
  const onAbort = () => fail(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  source.pipe(counter);

  const free: Buffer[] = [];
  let allocated = 0;
  const inFlight = new Set<Promise<void>>();
  const parts: UploadedPart[] = [];
  let ref: MultipartRef | undefined;
  let buffer: Buffer = Buffer.allocUnsafe(partSize);
  allocated++;
  let filled = 0;
  let partNumber = 1;

  const send = async (part: Buffer, length: number) => {
    if (partNumber > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts of ${partSize} bytes`);
    if (!ref) {
      ref = await sink.createMultipart(key, { contentType });
      onMultipart(ref);
    }
    const number = partNumber++;
    const sending: Promise<void> = sink
      .uploadPart(ref, number, part.subarray(0, length), length, { signal: stop.signal })
      .then((uploaded) => {
        parts.push(uploaded);
        free.push(part);
      }, fail)
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };
  const nextBuffer = async (): Promise<Buffer> => {
    while (free.length === 0 && allocated > queueSize && !failure) await Promise.race(inFlight);
    throwIfFailed();
    const reused = free.pop();
    if (reused) return reused;
    allocated++;
    return Buffer.allocUnsafe(partSize);
  };

  try {
    for await (const chunk of counter as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length;) {
        const taken = chunk.copy(buffer, filled, offset);
        filled += taken;
        offset += taken;
        if (filled < partSize) continue;
        await send(buffer, filled);
        buffer = await nextBuffer();
        filled = 0;
      }
    }
    throwIfFailed();
    if (!ref) {
      onPut();
      const { etag } = await sink.putObject(key, buffer.subarray(0, filled), {
        contentType,
        signal: stop.signal,
      });
      return { size: counter.bytes, etag };
    }
    if (filled > 0) await send(buffer, filled);
    await Promise.all(inFlight);
    throwIfFailed();
    const { etag } = await sink.completeMultipart(ref, parts);
    return { size: counter.bytes, etag };
  } catch (error) {
    fail(error);
    await Promise.all(inFlight);
    throwIfFailed();
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stopWatching();
    source.unpipe(counter);
    counter.destroy();
  }
}
