import { Readable } from 'node:stream';
import type { TailSpan } from './assembly-plan';
import { tailPrefix } from './assembly-state';
import { ObjectNotFoundError, RangeNotSatisfiableError } from './s3-errors';
import type { MultipartRef } from './s3-multipart-store';
import type { S3ObjectStore } from './s3-object-store';

/** Requests at once when deleting or reading many pieces: quick, without flooding S3 after a large truncate. */
const CONCURRENCY = 8;
/** Bytes per block of a streamed part body (see spanStream). */
const BLOCK_BYTES = 64 * 1024;

/**
 * The spans' bytes, one ranged GET after another, as one stream (bounded memory, backpressure), in blocks of at
 * least BLOCK_BYTES: a part body is sent aws-chunked, one chunk per block, and S3 refuses chunks under 8 KiB but the
 * last (versitygw answers InvalidChunkSizeError and resets the connection), while a GET yields whatever arrived.
 */
export function spanStream(store: S3ObjectStore, spans: TailSpan[]): Readable {
  return Readable.from(
    (async function* () {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for (const span of spans) {
        if (span.end <= span.start) continue;
        const read = await store.read(span.key, { start: span.start, end: span.end - 1 });
        if (!read) throw new ObjectNotFoundError(`no object at ${span.key}`);
        for await (const chunk of read.stream as AsyncIterable<Buffer>) {
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes < BLOCK_BYTES) continue;
          yield Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
    })(),
    { objectMode: false },
  );
}

/** The first `length` bytes of the spans (a few KiB for sniffing, a manifest of at most a few MB). */
export async function readSpans(store: S3ObjectStore, spans: TailSpan[], length: number): Promise<Buffer> {
  const wanted: TailSpan[] = [];
  let left = length;
  for (const span of spans) {
    if (left <= 0) break;
    const end = Math.min(span.end, span.start + left);
    wanted.push({ ...span, end });
    left -= end - span.start;
  }
  // Small pieces (manifest lines), so the GETs go out together rather than one after another.
  const pieces = await mapLimited(wanted, CONCURRENCY, async (span) => {
    const chunks: Buffer[] = [];
    for await (const chunk of spanStream(store, [span])) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
  return Buffer.concat(pieces);
}

/** Deletes objects, a few at a time; missing ones are fine. */
export async function deleteKeys(store: S3ObjectStore, keys: string[]): Promise<void> {
  await mapLimited(keys, CONCURRENCY, (key) => store.delete(key));
}

/** The first `length` (> 0) bytes of a stored object; an empty object has none. */
export async function readObjectHead(store: S3ObjectStore, key: string, length: number): Promise<Buffer> {
  try {
    const read = await store.read(key, { start: 0, end: length - 1 });
    if (!read) throw new ObjectNotFoundError(`no object at ${key}`);
    const chunks: Buffer[] = [];
    for await (const chunk of read.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof RangeNotSatisfiableError) return Buffer.alloc(0);
    throw error;
  }
}

/** `map` over `items` with at most `limit` calls in flight, results in order. */
async function mapLimited<T, R>(items: T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await map(items[index]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Removes everything of the assembly (or plain object) at `key`: its multipart upload, every tail piece and any
 * piece still being written, and the object itself.
 */
export async function removeAssembly(store: S3ObjectStore, key: string): Promise<void> {
  const [uploads, tail] = await Promise.all([store.listIncompleteUploads(key), store.list(tailPrefix(key))]);
  const own = uploads.filter((upload) => upload.key === key || upload.key.startsWith(tailPrefix(key)));
  for (const upload of own) await store.abortMultipart(upload);
  await deleteKeys(
    store,
    tail.map((object) => object.key),
  );
  await store.delete(key);
}

/**
 * Whether the multipart upload of an assembly (or any write) had a part or tail piece written since `since`: the
 * sweeper dates uploads by their start, and a long session's assembly started long before its latest chunk.
 */
export async function activeSince(store: S3ObjectStore, upload: MultipartRef, since: Date): Promise<boolean> {
  const parts = await store.listParts(upload);
  if (parts.some((part) => part.modifiedAt !== undefined && part.modifiedAt >= since)) return true;
  const tail = await store.list(tailPrefix(upload.key));
  return tail.some((object) => object.modifiedAt >= since);
}
