import type { Readable } from 'node:stream';

/** Inclusive byte range, as HTTP Range counts it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  size: number;
  etag: string;
  contentType?: string;
  modifiedAt?: Date;
}

export interface ObjectRead extends StoredObject {
  /** The bytes, straight from S3: destroy it to stop early. */
  stream: Readable;
  /** Bytes in `stream` (the range's length, or `size`). */
  length: number;
  range?: ByteRange;
}
