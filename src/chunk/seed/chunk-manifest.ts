import { Injectable } from '@nestjs/common';
import { StorageDriver, storageKey } from '../../storage';
import type { SessionRef } from './chunk-assembly';
import { formatManifestLine, parseManifest, ReceivedChunk, ReceivedChunks } from './received-chunks';

/**
 * Sessions whose parsed manifest stays in memory (a full one, 10 000 chunks, is ~1.5 MB); others are re-read from
 * disk when their next chunk comes.
 */
const CACHED_SESSIONS = 64;

const cacheKey = (ref: SessionRef) => `${ref.userId}/${ref.uploadId}`;

/**
 * The received chunks of a session, one line each, appended to `chunks/<userId>/<uploadId>/manifest` beside the
 * bytes. The session record keeps only the manifest's committed length (`manifestBytes`), like `assembledBytes` for
 * the data file: a line beyond it was never committed and is cut off by the next append. So each chunk costs a
 * fixed-size database write, not a rewrite of a list that grows with the session.
 */
@Injectable()
export class ChunkManifest {
  /** Parsed manifests by session, in least-recently-used order, valid for the committed length they were read at. */
  private readonly cache = new Map<string, { length: number; chunks: ReceivedChunks }>();

  constructor(private readonly storage: StorageDriver) {}

  /** The chunks committed to the session's manifest (its first `length` bytes). */
  async read(ref: SessionRef, length: number): Promise<ReceivedChunks> {
    const key = cacheKey(ref);
    const cached = this.cache.get(key);
    if (cached?.length === length) {
      this.keep(key, cached);
      return cached.chunks;
    }
    const text =
      length === 0 ? '' : (await this.storage.assembly(this.key(ref)).readHead(length)).toString('latin1');
    if (text.length !== length)
      throw new Error(`chunk manifest of ${ref.uploadId} is shorter than committed`);
    const chunks = parseManifest(text);
    this.keep(key, { length, chunks });
    return chunks;
  }

  /**
   * Writes `chunk` after the committed `length` bytes (cutting off an uncommitted line) and returns the length to
   * commit. The cached set changes only in `committed`, once the record says so.
   */
  async append(ref: SessionRef, length: number, chunk: ReceivedChunk): Promise<number> {
    const manifest = this.storage.assembly(this.key(ref));
    const line = formatManifestLine(chunk);
    await manifest.truncate(length);
    await manifest.append(Buffer.from(line, 'latin1'));
    return length + Buffer.byteLength(line, 'latin1');
  }

  /** Records that the session's record now commits `chunks` at `length` (after a successful `append`). */
  committed(ref: SessionRef, chunks: ReceivedChunks, chunk: ReceivedChunk, length: number): void {
    chunks.add(chunk);
    this.keep(cacheKey(ref), { length, chunks });
  }

  /** Drops the cached manifest of a session that ended (its file goes with the session folder). */
  forget(ref: SessionRef): void {
    this.cache.delete(cacheKey(ref));
  }

  private keep(key: string, entry: { length: number; chunks: ReceivedChunks }): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > CACHED_SESSIONS) this.cache.delete(this.cache.keys().next().value as string);
  }

  private key(ref: SessionRef): string {
    return storageKey('chunks', ref.userId, ref.uploadId, 'manifest');
  }
}
