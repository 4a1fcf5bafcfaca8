import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UploadMeter } from './upload-meter';

/**
 * Streams a request body through the meter into `file`. Piped, not pipelined, from the body: a failed write must not
 * destroy the request, or the client would never read the answer (the error filter closes the connection after it).
 * A body that closes before its end (the client went away, even before this was called) fails the write.
 */
export async function pipeRequestBody(body: Readable, meter: UploadMeter, file: Writable): Promise<void> {
  const written = pipeline(meter, file);
  const fail = (error?: Error) => meter.destroy(error ?? new Error('The request body closed before its end'));
  const closed = () => body.readableEnded || fail();
  body.once('error', fail).once('close', closed).pipe(meter);
  if (body.destroyed) closed();
  try {
    await written;
  } finally {
    body.off('error', fail).off('close', closed).unpipe(meter);
  }
}
