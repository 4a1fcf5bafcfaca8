import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TextPart {
  name: string;
  value: string;
}

export interface FilePart {
  name: string;
  filename: string;
  contentType?: string;
  /** Send the name as RFC 5987 `filename*=UTF-8''…` (percent-encoded), which can carry any character. */
  encodeFilename?: boolean;
  /** Bytes in memory (tiny fixtures) or a file streamed from disk. */
  data: Buffer | { path: string };
}

export type Part = TextPart | FilePart;

/** The usual body: `fileType=video`, then the file at `path` as `v.mp4`. */
export function videoParts(path: string): Part[] {
  return [
    { name: 'fileType', value: 'video' },
    { name: 'file', filename: 'v.mp4', data: { path } },
  ];
}

export interface UploadOptions {
  headers?: Record<string, string>;
  parts: Part[];
  /** Send with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
  /** Declare this Content-Length instead of the real one (for the over-limit test). */
  declaredLength?: number;
  /** Send file bytes in slices of this size… */
  chunkSize?: number;
  /** …waiting this long between slices. */
  delayMs?: number;
  /** Stop before the file byte at this offset until `release()` is called. */
  pauseAt?: number;
  /** Send at most this many body bytes, then wait for the response (a client that declared more). */
  sendAtMost?: number;
  path?: string;
}

export interface UploadResult {
  status?: number;
  headers?: IncomingHttpHeaders;
  // Any route's JSON body, asserted on by the tests (as supertest's `res.body` is).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body?: any;
  /** Set when the request failed without a complete response (reset, aborted). */
  error?: Error;
}

export interface RunningUpload {
  result: Promise<UploadResult>;
  /** Resolves when the client stops at `pauseAt`; rejects if the request ends first. */
  paused: Promise<void>;
  release(): void;
  abort(): void;
  fileBytesSent(): number;
}

const isFile = (part: Part): part is FilePart => 'filename' in part;

/**
 * A hand-built multipart/form-data POST on a raw http.request, so tests control what a browser or Dart client
 * would: field order, throttling, pausing mid-file, chunked transfer, a lying Content-Length, aborting.
 */
export function startUpload(baseUrl: string, options: UploadOptions): RunningUpload {
  const boundary = `----media-test-${randomBytes(8).toString('hex')}`;
  const chunkSize = options.chunkSize ?? 64 * 1024;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markPaused!: () => void;
  let neverPaused!: (error: Error) => void;
  const paused = new Promise<void>((resolve, reject) => {
    markPaused = resolve;
    neverPaused = reject;
  });
  paused.catch(() => undefined);
  let fileSent = 0;
  let abortUpload: () => void = () => undefined;

  const head = (part: Part) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"` +
        (isFile(part)
          ? `; ${part.encodeFilename ? `filename*=UTF-8''${encodeURIComponent(part.filename)}` : `filename="${part.filename}"`}\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}\r\n`
          : '\r\n') +
        '\r\n',
      'utf8',
    );
  const tail = Buffer.from(`--${boundary}--\r\n`);

  async function* fileBytes(part: FilePart): AsyncGenerator<Buffer> {
    const source: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(part.data)
      ? slices(part.data, chunkSize)
      : createReadStream(part.data.path, { highWaterMark: chunkSize });
    for await (const chunk of source) {
      if (
        options.pauseAt !== undefined &&
        fileSent <= options.pauseAt &&
        fileSent + chunk.length > options.pauseAt
      ) {
        const before = chunk.subarray(0, options.pauseAt - fileSent);
        if (before.length) yield before;
        fileSent += before.length;
        markPaused();
        await released;
        const after = chunk.subarray(before.length);
        fileSent += after.length;
        yield after;
      } else {
        fileSent += chunk.length;
        yield chunk;
      }
      if (options.delayMs) await sleep(options.delayMs);
    }
  }

  async function* body(): AsyncGenerator<Buffer> {
    let sent = 0;
    const limited = async function* (chunks: AsyncIterable<Buffer> | Iterable<Buffer>) {
      for await (const chunk of chunks) {
        if (options.sendAtMost !== undefined && sent + chunk.length > options.sendAtMost) {
          const room = options.sendAtMost - sent;
          if (room > 0) yield chunk.subarray(0, room);
          sent = options.sendAtMost;
          await released; // hold the connection open without sending more
          return;
        }
        sent += chunk.length;
        yield chunk;
      }
    };
    for (const part of options.parts) {
      yield* limited([head(part)]);
      if (options.sendAtMost !== undefined && sent >= options.sendAtMost) return void (await released);
      yield* limited(isFile(part) ? fileBytes(part) : [Buffer.from(part.value, 'utf8')]);
      yield* limited([Buffer.from('\r\n')]);
    }
    yield* limited([tail]);
  }

  const result = (async (): Promise<UploadResult> => {
    const headers: Record<string, string | number> = {
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      ...options.headers,
    };
    if (!options.chunked) {
      headers['Content-Length'] = options.declaredLength ?? (await measure(options.parts, head, tail));
    }
    return new Promise<UploadResult>((resolve) => {
      const req = http.request(`${baseUrl}${options.path ?? '/api/upload/media'}`, {
        method: 'POST',
        headers,
        agent: false,
      });
      let settled = false;
      const finish = (outcome: UploadResult) => {
        if (settled) return;
        settled = true;
        neverPaused(
          new Error(
            `the upload ended before pausing: ${JSON.stringify(outcome.body ?? outcome.error?.message)}`,
          ),
        );
        release();
        req.destroy();
        resolve(outcome);
      };
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const done = () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          finish({ status: res.statusCode, headers: res.headers, body: parsed });
        };
        res.on('end', done);
        res.on('close', done);
      });
      req.on('error', (error) => finish({ error }));
      abortUpload = () => req.destroy(new Error('aborted by the test'));
      pipeline(Readable.from(body()), req).catch(() => undefined);
    });
  })();

  return { result, paused, release, abort: () => abortUpload(), fileBytesSent: () => fileSent };
}

/** Runs an upload to its end. */
export function upload(baseUrl: string, options: UploadOptions): Promise<UploadResult> {
  return startUpload(baseUrl, options).result;
}

function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

async function measure(parts: Part[], head: (part: Part) => Buffer, tail: Buffer): Promise<number> {
  let total = tail.length;
  for (const part of parts) {
    total += head(part).length + 2;
    if (!isFile(part)) total += Buffer.byteLength(part.value, 'utf8');
    else total += Buffer.isBuffer(part.data) ? part.data.length : (await stat(part.data.path)).size;
  }
  return total;
}
