import http from 'node:http';
import { Readable } from 'node:stream';

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of any route
  body: any;
}

/**
 * One request with a body built byte by byte (and headers Node would otherwise fix for us). Resolves with the
 * answer; a connection the server cuts resolves with status 0.
 */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: {
    method?: string;
    headers: Record<string, string>;
    body: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  },
): Promise<RawReply> {
  return new Promise((resolve) => {
    const req = http.request(`${baseUrl}${path}`, {
      method: options.method ?? 'POST',
      headers: options.headers,
      agent: false,
    });
    let settled = false;
    const done = (reply: RawReply) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(reply);
    };
    req.on('response', (res) => {
      const pieces: Buffer[] = [];
      res.on('data', (piece: Buffer) => pieces.push(piece));
      const end = () => {
        const text = Buffer.concat(pieces).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        done({ status: res.statusCode ?? 0, headers: res.headers, body });
      };
      res.on('end', end);
      res.on('close', end);
    });
    req.on('error', () => done({ status: 0, headers: {}, body: undefined }));
    const source = Buffer.isBuffer(options.body)
      ? Readable.from([options.body])
      : Readable.from(options.body);
    source.on('error', () => undefined);
    source.pipe(req);
  });
}

export const BOUNDARY = 'AttackBoundary7MA4YWxkTrZu0gW';

export function field(name: string, value: string, extraHeaders = ''): Buffer {
  return Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n${extraHeaders}\r\n${value}\r\n`,
  );
}

export function filePart(data: Buffer, filename = 'a.jpg', name = 'file'): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    data,
    Buffer.from('\r\n'),
  ]);
}

export const CLOSE = Buffer.from(`--${BOUNDARY}--\r\n`);

export function multipartHeaders(auth: Record<string, string>, boundary = BOUNDARY): Record<string, string> {
  return { ...auth, 'Content-Type': `multipart/form-data; boundary=${boundary}` };
}
