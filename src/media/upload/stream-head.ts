import { Readable } from 'node:stream';

/** The first bytes of a stream, read before deciding what to do with the rest. */
export interface StreamHead {
  bytes: Buffer;
  /** True when the whole stream fitted in the head. */
  ended: boolean;
}

/**
 * Reads at least `size` bytes (fewer only if the stream ends first) and leaves the stream paused, so its type can be
 * sniffed before anything is written; `headThenRest` then replays the head followed by the remaining bytes.
 */
export function readHead(stream: Readable, size: number, signal: AbortSignal): Promise<StreamHead> {
  return new Promise<StreamHead>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const settle = (error: unknown, ended = false) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error instanceof Error ? error : new Error('The file stream failed'));
      else resolve({ bytes: Buffer.concat(chunks), ended });
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (length < size && (chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= size) settle(undefined);
    };
    const onEnd = () => settle(undefined, true);
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new Error('The file stream closed before its end'));
    const onAbort = () => settle(signal.reason);
    if (signal.aborted) return onAbort();
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The whole stream again, head first: the head is pushed back onto the paused stream, which is then piped as it
 * is (no per-chunk async iteration on the hot path). A stream that already ended is replaced by its head alone.
 */
export function headThenRest(head: StreamHead, rest: Readable): Readable {
  // A small file may have ended while the head was sniffed; unshifting after 'end' would drop the head.
  if (head.ended || rest.readableEnded) return Readable.from(head.bytes.length > 0 ? [head.bytes] : []);
  if (head.bytes.length > 0) rest.unshift(head.bytes);
  return rest;
}
