import type { DataStore, KvStore, Upload } from '@tus/utils';
import { randomUUID } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { keySegments } from './storage-key';

/** What a stored object is; `undefined` from `stat` when there is none. */
export interface ObjectStat {
  size: number;
  modifiedAt: Date;
  /** Changes whenever the bytes do (local: size and mtime; S3: the object's ETag). */
  etag: string;
}

export interface ListedObject {
  key: string;
  size: number;
  modifiedAt: Date;
}

/** Inclusive byte range, as HTTP Range and fs `start`/`end` count it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface TusDataStoreOptions {
  /** Where upload info lives (MongoDB): the store keeps only the bytes. */
  configstore: KvStore<Upload>;
  expiryMs: number;
}

/**
 * An object built from pieces that arrive in order: seed chunks appended one after another (out-of-order chunks
 * wait as objects of their own until the gap before them fills, then are appended) and tus PATCHes at the
 * current offset. Its length is committed elsewhere (the session record, the tus offset): `truncate` drops a piece
 * that was written but never committed, so a retried or crashed append is never doubled.
 *
 * On S3 (S3Assembly) an assembly is a multipart upload of its key plus tail objects not sent as parts yet, its
 * whole state in the bucket; only committed bytes become parts, so `truncate` to a committed length never cuts a
 * part, and `openWriteAt` only appends (its offset must be the current length). `seal` completes the upload, after
 * which the key reads as a normal object (sniff, hash, promote); removing the key removes everything it holds.
 * tus on S3 writes through the same assembly (see `tusDataStore`).
 */
export interface Assembly {
  readonly key: string;
  /** Cuts the object back to `length` bytes; a missing object is created empty when `length` is 0. */
  truncate(length: number): Promise<void>;
  /** Appends the whole of a stored object (a streamed chunk) after the current end. */
  appendObject(sourceKey: string): Promise<void>;
  /** Appends a few bytes (a manifest line) after the current end. */
  append(bytes: Buffer): Promise<void>;
  /**
   * A stream writing into the existing object from `offset` (a tus PATCH at its offset). One that fails or is
   * destroyed keeps what it stored (local: every byte written; S3: each whole piece of S3_PART_SIZE), so `length`
   * then says where to resume; a caller that must drop the whole write calls `truncate(offset)`.
   */
  openWriteAt(offset: number): Writable;
  /** Cuts to the committed `length` and makes the object readable as a whole (local: a truncate). */
  seal(length: number): Promise<void>;
  /** The current length in bytes (everything written so far, committed or not); undefined when nothing exists yet. */
  length(): Promise<number | undefined>;
  /** The first `length` bytes (fewer if shorter), readable before `seal` (tus head check, the seed manifest). */
  readHead(length: number): Promise<Buffer>;
}

/**
 * The only code that touches upload bytes, addressed by storage keys (see storage-key.ts), never by file path:
 * `tmp/<user>.<upload>.part`, `tmp/chunk-<random>`, `chunks/<user>/<upload>/{data,manifest,part-N,incoming-*}`,
 * `tus/<id>`, `media/<user>/<upload>.<ext>`. Every key is checked before use. Inject it as `StorageDriver`
 * (an abstract class, so it is its own DI token); `LocalDiskDriver` is the implementation today.
 *
 * Missing objects: `remove`/`removePrefix` ignore them (cleanup runs more than once), `stat` answers undefined,
 * reads and moves fail (ENOENT on disk, NoSuchKey on S3).
 */
export abstract class StorageDriver {
  /**
   * A stream into a new object at `key`; it never replaces an existing one (two uploads can never share an
   * object). Its 'finish' means the bytes are stored. A stream that fails or is destroyed may leave a partial
   * object: the caller removes the key (S3: aborts the multipart upload behind the stream).
   */
  abstract openWrite(key: string): Writable;

  /** The object's bytes, or an inclusive range of them, streamed. */
  abstract openRead(key: string, range?: ByteRange): Readable;

  /** The first `length` bytes of an object (type sniffing, manifests), without reading the rest. */
  abstract readHead(key: string, length: number): Promise<Buffer>;

  abstract stat(key: string): Promise<ObjectStat | undefined>;

  /**
   * Moves a finished object to its final key (`media/…`), replacing whatever is there. Local: an atomic rename on
   * one filesystem; S3: a server-side copy, then a delete of the source.
   */
  abstract promote(from: string, to: string): Promise<void>;

  /**
   * Whether `promote` copies the bytes (S3: a server-side copy that takes about as long as the upload did). A
   * protocol that knows an upload's final key while its bytes stream (the single-request upload, from its sniffed
   * head) then writes them there at once, and nothing is promoted.
   */
  readonly promoteCopies: boolean = false;

  /** Moves an object to another key whose prefix exists (parking a chunk, undoing a promote), replacing `to`. */
  abstract move(from: string, to: string): Promise<void>;

  abstract remove(key: string): Promise<void>;

  /** Removes every object under `prefix/` (a chunk session), and any multipart upload under it. */
  abstract removePrefix(prefix: string): Promise<void>;

  /**
   * Makes `prefix/` writable. Local: creates its folder; writes under a prefix that does not exist (never made, or
   * removed with its session) fail, so a write racing a session's removal cannot bring it back. S3: nothing to do.
   */
  abstract ensurePrefix(prefix: string): Promise<void>;

  /** Every object under `prefix/` (e.g. `tmp`, for the sweeper's stray-file cleanup). */
  abstract list(prefix: string): Promise<ListedObject[]>;

  /**
   * A URL a client can GET the object's bytes from directly, or undefined to stream them through this service
   * (local always; S3 with S3_DOWNLOAD_MODE=redirect answers a short-lived presigned URL).
   */
  async downloadUrl(
    key: string,
    _options?: { contentType?: string; contentDisposition?: string },
  ): Promise<string | undefined> {
    keySegments(key);
    return Promise.resolve(undefined);
  }

  /**
   * Where ffmpeg, ffprobe and the image tools read an object (local: its file path; S3: a presigned GET URL valid
   * for `ttlSeconds`). They must seek (an MP4 whose index is at its end), so a stream will not do.
   */
  abstract toolInput(key: string, ttlSeconds: number): Promise<string>;

  /**
   * Aborts writes under `prefix/` that a crashed process left unfinished before `olderThan` (S3: incomplete
   * multipart uploads, billed until aborted; local: nothing, a partial file is listed by `list`). Returns how many.
   */
  abortIncompleteWrites(prefix: string, _olderThan: Date): Promise<number> {
    return Promise.resolve().then(() => (keySegments(prefix), 0));
  }

  /**
   * The health check: writes and removes a small object, the only proof the storage really accepts bytes.
   * Rejects with an Error whose message is the check's `detail` (short, no addresses: /api/health is public).
   */
  async probe(): Promise<void> {
    const key = `tmp/health-${randomUUID()}`;
    try {
      await pipeline(Readable.from([Buffer.from('ok')]), this.openWrite(key));
      await this.remove(key);
    } catch (error) {
      await this.remove(key).catch(() => undefined);
      throw new Error(this.probeFailure(error));
    }
  }

  /** What a failed probe says in the health report. */
  protected probeFailure(error: unknown): string {
    return `storage not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`;
  }

  /** The assembly at `key` (see Assembly); nothing is created until its first write. */
  abstract assembly(key: string): Assembly;

  /**
   * The @tus/server DataStore that keeps tus uploads' bytes under `tus/<id>` (local: @tus/file-store; S3:
   * S3TusStore, over the assembly at that key). The tus module wraps it with its own rules; it never sees where
   * the bytes are.
   */
  abstract tusDataStore(options: TusDataStoreOptions): DataStore;
}
