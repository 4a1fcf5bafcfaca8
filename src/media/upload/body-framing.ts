/**
 * Where the file's bytes lie in a multipart body, so progress reports the file's size rather than the body's.
 * busboy exposes no byte offsets, so the first bytes of the body are kept and the file part is found in them by
 * the delimiter rule of RFC 2046 §5.1.1 (a delimiter is CRLF "--" boundary; part data never contains it).
 */

/** The first bytes of a request body, up to a cap (the fields and part headers in front of the file fit). */
export class BodyHead {
  private chunks: Buffer[] = [];
  private length = 0;
  private closed = false;

  constructor(private readonly cap: number) {}

  record(chunk: Buffer): void {
    if (this.closed || this.length >= this.cap) return;
    const kept = chunk.subarray(0, this.cap - this.length);
    this.chunks.push(kept);
    this.length += kept.length;
  }

  /** The bytes kept so far; keeps no more after this. */
  take(): Buffer {
    this.closed = true;
    const bytes = Buffer.concat(this.chunks);
    this.chunks = [];
    return bytes;
  }
}

/** The boundary parameter of a multipart Content-Type. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

/**
 * Offset in the body of the first data byte of the part at `partIndex` (0-based), or null when `head` does not
 * reach it. The first delimiter may follow a preamble; the part's headers end at the first empty line.
 */
export function partDataOffset(head: Buffer, boundary: string, partIndex: number): number | null {
  const first = Buffer.from(`--${boundary}`, 'latin1');
  const next = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let at = head.indexOf(first);
  for (let index = 0; at !== -1; index++) {
    const headersEnd = head.indexOf('\r\n\r\n', at + first.length);
    if (headersEnd === -1) return null;
    if (index === partIndex) return headersEnd + 4;
    at = head.indexOf(next, headersEnd);
    if (at !== -1) at += 2;
  }
  return null;
}

/** Bytes after the last part's data: the close delimiter and the CRLF every common client ends the body with. */
export function closingBytes(boundary: string): number {
  return Buffer.byteLength(`\r\n--${boundary}--\r\n`, 'latin1');
}

/**
 * The file's size as far as it can be known once its part headers are parsed: the declared body length minus
 * the bytes before the file's data and the closing delimiter. Exact when the file is the body's last part;
 * otherwise it also counts the parts after the file. Null when the body length is unknown.
 */
export function fileSizeFromBody(
  declaredLength: number | null,
  head: Buffer,
  boundary: string | undefined,
  partIndex: number,
): number | null {
  if (declaredLength === null || !boundary) return null;
  const offset = partDataOffset(head, boundary, partIndex);
  if (offset === null) return null;
  const size = declaredLength - offset - closingBytes(boundary);
  return size >= 0 ? size : null;
}
