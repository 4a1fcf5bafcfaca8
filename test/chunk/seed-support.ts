import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fields = Record<string, string | number | undefined>;

/** A parsed JSON response body: its shape is checked by expect(), not by the compiler. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = Record<string, any>;

export interface ChunkReply {
  status: number;
  body: JsonBody;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** Splits a buffer into `count` nearly equal pieces. */
export function split(data: Buffer, count: number): Buffer[] {
  const size = Math.ceil(data.length / count);
  return Array.from({ length: count }, (_, i) =>
    data.subarray(i * size, Math.min(data.length, (i + 1) * size)),
  );
}

export function newFileId(prefix = 'upload'): string {
  return `${prefix}_${Date.now()}_${randomBytes(4).toString('hex')}`;
}

/** Every file (not folder) under `dir`, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(dir, join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)),
    )
    .sort();
}

export interface MultipartOptions {
  /** `fields-first` (default) sends the text fields before the file; `file-first` after it. */
  order?: 'fields-first' | 'file-first';
  /** Split the file into pieces of this many bytes, one every `delayMs` (to observe a chunk mid-stream). */
  pieceBytes?: number;
  delayMs?: number;
  /** Aborts the request (a client that drops its connection). */
  signal?: AbortSignal;
}

const BOUNDARY = '----seedchunktestboundary7MA4YWxkTrZu0gW';

function fieldPart(name: string, value: string): Buffer {
  return Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
}

async function* multipartBody(fields: Fields, file: Buffer | undefined, options: MultipartOptions) {
  const textParts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => fieldPart(name, String(value)));
  if (options.order !== 'file-first') yield* textParts;
  if (file) {
    yield Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    const piece = options.pieceBytes ?? file.length;
    for (let offset = 0; offset < file.length; offset += piece) {
      if (offset > 0 && options.delayMs) await sleep(options.delayMs);
      yield file.subarray(offset, offset + piece);
    }
    yield Buffer.from('\r\n');
  }
  if (options.order === 'file-first') yield* textParts;
  yield Buffer.from(`--${BOUNDARY}--\r\n`);
}

/**
 * POST /api/video/upload with a hand-built multipart body, so tests control the order of the parts and the pace
 * of the file's bytes. Resolves with the status and JSON body; never rejects on an HTTP error status.
 */
export function postChunk(
  baseUrl: string,
  token: string,
  fields: Fields,
  file: Buffer | undefined,
  options: MultipartOptions = {},
): Promise<ChunkReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}/api/video/upload`,
      {
        method: 'POST',
        signal: options.signal,
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
        },
      },
      (res) => {
        const pieces: Buffer[] = [];
        res.on('data', (piece: Buffer) => pieces.push(piece));
        res.on('end', () => {
          const text = Buffer.concat(pieces).toString();
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as JsonBody) : {},
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    Readable.from(multipartBody(fields, file, options)).pipe(req);
  });
}

/** Polls `check` every 25 ms until it returns true, for at most `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await sleep(25);
  }
}
