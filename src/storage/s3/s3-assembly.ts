import type { Writable } from 'node:stream';
import type { Assembly } from '../storage-driver';
import { planParts } from './assembly-plan';
import { deleteKeys, readObjectHead, readSpans, removeAssembly, spanStream } from './assembly-io';
import {
  AssemblyState,
  headKey,
  lengthOf,
  loadAssemblyState,
  pieceKey,
  spanOf,
  tailPrefix,
  uploadMarker,
} from './assembly-state';
import { DeferredWritable } from './deferred-writable';
import { ObjectNotFoundError } from './s3-errors';
import { MIN_PART_BYTES } from './s3-multipart-store';
import type { S3ObjectStore } from './s3-object-store';
import { S3WriteStream } from './s3-write-stream';
import { TailWriter } from './tail-writer';

/** The head copy kept once parts are sent: enough for type sniffing (SNIFF_BYTES) and any header check. */
export const HEAD_BYTES = 64 * 1024;
/** Committed tail pieces merged into one beyond this many, so a long manifest is not hundreds of GETs per read. */
export const COMPACT_AFTER_PIECES = 32;

/**
 * An assembly in S3, whose whole state is in the bucket (any instance picks it up; kill -9 loses nothing):
 * a multipart upload of `key`, named by a marker object `<key>.tail/upload-<id>`, plus tail pieces: objects
 * `<key>.tail/<offset>` holding bytes not sent as parts yet (see assembly-state.ts).
 *
 * - An append stores new pieces at the current length: appendObject one, a server-side copy of the chunk (a copy,
 *   not a move: an uncommitted append may be cut off, and the parked chunk must survive that), append one small PUT,
 *   openWriteAt a stream as pieces of one part size each (TailWriter: bounded part buffers), so a request broken
 *   off keeps its whole pieces.
 * - Before it, the committed tail is flushed as parts as soon as it makes one (see assembly-plan.ts): a piece of
 *   5 MiB or more by UploadPartCopy (no bytes through this process), small ones streamed together, in 64 KiB
 *   blocks, into one UploadPart of known length once they reach S3_PART_SIZE. Only committed bytes are ever sent
 *   (up to the length the last `truncate` or the `openWriteAt` offset named), so `truncate` never has to cut a
 *   part; asked to, it fails.
 * - `truncate(n)` deletes pieces beyond `n`, a committed piece boundary. `seal(n)` sends the rest as the last part
 *   and completes the upload (or, with no part sent, makes the tail one object), then deletes the tail.
 * - `readHead`: the tail is readable as it is; once parts are sent only the head copy (`<key>.tail/head`, the first
 *   HEAD_BYTES, written with the first part) is, which covers sniffing. A manifest stays below one part, all tail.
 *
 * The state is read from S3 once per instance of this class and kept up to date by its own writes (one writer per
 * upload, under its lease); any failure drops it, so the next call reads S3 again.
 */
export class S3Assembly implements Assembly {
  private state?: AssemblyState;
  /** The committed length the caller named (truncate, openWriteAt): bytes up to here may be sent as parts. */
  private committed?: number;
  private readonly partSize: number;

  constructor(
    readonly key: string,
    private readonly store: S3ObjectStore,
    partSizeBytes: number,
  ) {
    this.partSize = Math.max(MIN_PART_BYTES, partSizeBytes);
  }

  /** Everything the assembly at `key` holds: its upload, its tail, the object. */
  static remove(store: S3ObjectStore, key: string): Promise<void> {
    return removeAssembly(store, key);
  }

  truncate(length: number): Promise<void> {
    return this.run((state) => this.cut(state, length));
  }

  appendObject(sourceKey: string): Promise<void> {
    return this.run(async (state) => {
      const at = await this.beforeAppend(state);
      const source = await this.store.head(sourceKey);
      if (!source) throw new ObjectNotFoundError(`no object at ${sourceKey}`);
      const target = pieceKey(this.key, at);
      await this.store.copy(sourceKey, target);
      state.live.push({ key: target, offset: at, size: source.size, from: 0 });
      state.exists = true;
    });
  }

  append(bytes: Buffer): Promise<void> {
    return this.run(async (state) => {
      const at = await this.beforeAppend(state);
      const target = pieceKey(this.key, at);
      await this.store.putObject(target, bytes);
      state.live.push({ key: target, offset: at, size: bytes.length, from: 0 });
      state.exists = true;
    });
  }

  /**
   * Appends only: `offset` must be the current length. Every part size of bytes is a piece of its own, stored as it
   * fills, the rest one piece when the stream finishes; a stream that fails or is destroyed keeps the whole pieces
   * stored before (the length is `offset` plus them), and `truncate(offset)` drops them.
   */
  openWriteAt(offset: number): Writable {
    return new DeferredWritable(() =>
      this.run(async (state) => {
        const length = lengthOf(state);
        if (state.sealed === undefined && offset !== length) {
          throw new Error(
            `S3 assemblies only append: write at ${offset}, but ${this.key} holds ${length} bytes`,
          );
        }
        this.committed = offset;
        await this.beforeAppend(state);
        // The pieces are known only when the stream is over: the next call reads the state again.
        this.state = undefined;
        return new S3WriteStream(
          new TailWriter(this.store, offset, this.partSize, this.store.queueSize),
          this.key,
        );
      }),
    );
  }

  seal(length: number): Promise<void> {
    return this.run(async (state) => {
      if (state.sealed === undefined) {
        await this.cut(state, length);
        await this.complete(state, length);
      } else if (state.sealed !== length) {
        throw new Error(`${this.key} is sealed at ${state.sealed} bytes, not ${length}`);
      }
      await deleteKeys(
        this.store,
        (await this.store.list(tailPrefix(this.key))).map((object) => object.key),
      );
      this.state = { sealed: length, parts: [], sent: 0, live: [], stale: [], hasHead: false, exists: true };
    });
  }

  length(): Promise<number | undefined> {
    return this.run((state) => {
      if (state.sealed !== undefined) return Promise.resolve(state.sealed);
      return Promise.resolve(state.exists ? lengthOf(state) : undefined);
    });
  }

  readHead(length: number): Promise<Buffer> {
    return this.run(async (state) => {
      if (!state.exists) throw new ObjectNotFoundError(`no assembly at ${this.key}`);
      const size = state.sealed ?? lengthOf(state);
      const wanted = Math.min(length, size);
      if (wanted <= 0) return Buffer.alloc(0);
      if (state.sealed !== undefined) return readObjectHead(this.store, this.key, wanted);
      if (state.sent === 0) return readSpans(this.store, state.live.map(spanOf), wanted);
      if (state.hasHead && wanted <= HEAD_BYTES) return readObjectHead(this.store, headKey(this.key), wanted);
      throw new Error(`only the first ${HEAD_BYTES} bytes of ${this.key} are readable before it is sealed`);
    });
  }

  /** Runs `step` on the current state (read from S3 if not known); a failure forgets the state. */
  private async run<T>(step: (state: AssemblyState) => Promise<T>): Promise<T> {
    try {
      this.state ??= await loadAssemblyState(this.store, this.key);
      return await step(this.state);
    } catch (error) {
      this.state = undefined;
      throw error;
    }
  }

  /** Drops every piece beyond `length`, a committed piece boundary at or after the sent parts. */
  private async cut(state: AssemblyState, length: number): Promise<void> {
    if (state.sealed !== undefined) {
      if (length === state.sealed) return;
      throw new Error(`${this.key} is sealed at ${state.sealed} bytes: it cannot be cut to ${length}`);
    }
    if (!state.exists && length !== 0) throw new ObjectNotFoundError(`no assembly at ${this.key}`);
    const current = lengthOf(state);
    if (length < state.sent || length > current) {
      throw new Error(`cannot cut ${this.key} to ${length}: ${state.sent} bytes are sent, ${current} stored`);
    }
    const kept = state.live.filter((piece) => piece.offset + piece.size <= length);
    const dropped = state.live.slice(kept.length);
    if (dropped[0] && dropped[0].offset + dropped[0].from < length) {
      throw new Error(`cannot cut ${this.key} to ${length}: not a piece boundary`);
    }
    await deleteKeys(this.store, [...state.stale, ...dropped.map((piece) => piece.key)]);
    state.live = kept;
    state.stale = [];
    if (!state.upload && kept.length === 0 && !state.hasHead) {
      // An empty assembly is one empty piece, so that it exists (length 0, not undefined).
      await this.store.putObject(pieceKey(this.key, 0), Buffer.alloc(0));
      state.exists = true;
    }
    this.committed = length;
  }

  /**
   * Before a new piece: drops stale pieces (one beyond the end would otherwise join the assembly once the new one
   * reaches it), then sends the committed tail as parts once it makes one, or merges it once it has many pieces.
   * Returns the offset of the new piece.
   */
  private async beforeAppend(state: AssemblyState): Promise<number> {
    if (state.sealed !== undefined) throw new Error(`${this.key} is sealed: nothing can be appended`);
    if (state.stale.length > 0) {
      await deleteKeys(this.store, state.stale);
      state.stale = [];
    }
    const committed = state.live.filter(
      (piece) => piece.offset + piece.size <= (this.committed ?? -1),
    ).length;
    const sent = await this.sendParts(state, committed, false);
    if (!sent && committed > COMPACT_AFTER_PIECES) await this.compact(state, committed);
    return lengthOf(state);
  }

  /**
   * Sends the first `count` live pieces as parts (see planParts), then deletes the pieces they consumed. Returns
   * false when they do not make a part yet.
   */
  private async sendParts(state: AssemblyState, count: number, last: boolean): Promise<boolean> {
    const spans = state.live.slice(0, count).map(spanOf);
    const plan = planParts(spans, { partSize: this.partSize, last });
    if (plan.parts.length === 0) return false;
    if (!state.upload) {
      state.upload = await this.store.createMultipart(this.key, { checksums: false });
      await this.store.putObject(uploadMarker(this.key, state.upload.uploadId), Buffer.alloc(0));
    }
    if (state.sent === 0 && !last && !state.hasHead) {
      await this.store.putObject(headKey(this.key), await readSpans(this.store, spans, HEAD_BYTES));
      state.hasHead = true;
    }
    let partNumber = (state.parts.at(-1)?.partNumber ?? 0) + 1;
    for (const part of plan.parts) {
      const size = part.kind === 'copy' ? part.end - part.start : part.length;
      const uploaded =
        part.kind === 'copy'
          ? await this.store.uploadPartCopy(state.upload, partNumber, part.key, {
              start: part.start,
              end: part.end - 1,
            })
          : await this.store.uploadPart(state.upload, partNumber, spanStream(this.store, part.spans), size);
      state.parts.push({ ...uploaded, size });
      state.sent += size;
      partNumber += 1;
    }
    const consumed = state.live.splice(0, plan.consumed);
    await deleteKeys(
      this.store,
      consumed.map((piece) => piece.key),
    );
    return true;
  }

  /** Merges the first `count` live pieces into one piece at their start (a crash in between leaves them stale). */
  private async compact(state: AssemblyState, count: number): Promise<void> {
    const merged = state.live.slice(0, count);
    const offset = merged[0].offset + merged[0].from;
    const key = pieceKey(this.key, offset);
    const { size } = await this.store.write(key, spanStream(this.store, merged.map(spanOf)));
    state.live.splice(0, count, { key, offset, size, from: 0 });
    await deleteKeys(
      this.store,
      merged.filter((piece) => piece.key !== key).map((piece) => piece.key),
    );
  }

  /** Makes the first `length` bytes the object at the key: the last part and completion, or one object. */
  private async complete(state: AssemblyState, length: number): Promise<void> {
    if (state.parts.length === 0 && length - state.sent < this.partSize) {
      if (state.upload) await this.store.abortMultipart(state.upload);
      const only = state.live.length === 1 ? state.live[0] : undefined;
      if (only && only.from === 0) await this.store.copy(only.key, this.key);
      else await this.store.write(this.key, spanStream(this.store, state.live.map(spanOf)));
      return;
    }
    await this.sendParts(state, state.live.length, true);
    // Created without a checksum algorithm (see createMultipart): the parts' own CRC32s are not repeated.
    const parts = state.parts.map(({ partNumber, etag }) => ({ partNumber, etag }));
    await this.store.completeMultipart(state.upload!, parts);
  }
}
