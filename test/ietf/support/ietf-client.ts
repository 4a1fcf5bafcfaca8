import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** One interim (1xx) answer as the client saw it. */
export interface Interim {
  status: number;
  /** The status line's reason phrase (`Upload Resumption Supported`). */
  statusMessage: string;
  headers: IncomingHttpHeaders;
}

export interface IetfResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, when there is one. */
  body: Record<string, unknown> | undefined;
  /** 1xx answers other than 100, in order (104 Upload Resumption Supported). */
  interims: Interim[];
  /** Whether a 100 Continue came (for `Expect: 100-continue`). */
  continued: boolean;
}

export interface IetfRequest {
  method: 'POST' | 'PATCH' | 'HEAD' | 'DELETE' | 'OPTIONS';
  /** Absolute URL, or a path resolved against `base`. */
  url: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  /** Called on each interim answer (a test starts its next step once the 104 is in). */
  onInterim?: (interim: Interim) => void;
  /**
   * Sends this many bytes of a Buffer body, waits for the 104 (a client can resume only once it has the upload's
   * URL), then destroys the socket: an interrupted upload.
   */
  cutAfter?: number;
}

/**
 * A minimal client of the IETF draft over Node's `http`, written from the draft's text: it reads interim 104 answers
 * through the request's `information` event, which supertest and fetch do not expose. Answers what came; a request
 * whose connection broke (cut by the test or by the server) resolves with status 0.
 */
export function ietfRequest(base: string, options: IetfRequest): Promise<IetfResponse> {
  const url = new URL(options.url, base);
  const interims: Interim[] = [];
  let continued = false;
  const body = options.body;
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (Buffer.isBuffer(body) && options.cutAfter === undefined && headers['Content-Length'] === undefined) {
    headers['Content-Length'] = String(body.length);
  }
  let announced: () => void = () => undefined;
  const firstInterim = new Promise<void>((resolve) => (announced = resolve));
  return new Promise<IetfResponse>((resolve) => {
    const broken = () => resolve({ status: 0, headers: {}, text: '', body: undefined, interims, continued });
    const req = httpRequest(url, { method: options.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', broken);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: json, interims, continued });
      });
    });
    req.on('information', (info) => {
      if (info.statusCode === 100) return; // 'continue' reports it
      const interim = { status: info.statusCode, statusMessage: info.statusMessage, headers: info.headers };
      interims.push(interim);
      announced();
      options.onInterim?.(interim);
    });
    req.on('continue', () => (continued = true));
    req.on('error', broken);
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      if (options.cutAfter === undefined) {
        req.end(body);
      } else {
        req.write(body.subarray(0, options.cutAfter), () => void firstInterim.then(() => req.destroy()));
      }
    } else {
      body.pipe(req);
    }
  });
}

/** `sha-256=:<base64>:` for Repr-Digest. */
export function reprDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

/** The upload id: the last path segment of `Location`. */
export function idOf(location: string | string[] | undefined): string {
  return String(location).split('/').pop() ?? '';
}

/** The content type of an upload append (the draft's `application/partial-upload`). */
export const PARTIAL = { 'Content-Type': 'application/partial-upload' };

/** Hex SHA-256 of bytes (the service's `checksumSha256`). */
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** `bytes` sent 64 KiB every 25 ms: a request that stays in flight (about a second per 3 MiB). */
export function trickle(bytes: Buffer): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < bytes.length; at += 64 * 1024) {
        await sleep(25);
        yield bytes.subarray(at, at + 64 * 1024);
      }
    })(),
  );
}
