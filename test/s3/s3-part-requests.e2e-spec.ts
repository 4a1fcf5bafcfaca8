import { createHash } from 'node:crypto';
import { createServer, IncomingHttpHeaders, request, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ObjectStore, StorageUnavailableError } from '../../src/storage/s3';
import { upload, videoParts } from '../media/support/multipart-upload';
import { largeMp4Like } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp } from '../support/test-app';
import { registerUser } from '../support/users';
import { patternStream, S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';
import { withoutDerived } from '../support/processing';

const MiB = 1024 * 1024;

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  socket: number;
}

/**
 * An HTTP proxy between the store and versitygw (127.0.0.1 only) that records each request's headers and the
 * client connection it came on, and can flip one byte of the body of the requests `corrupt` picks.
 */
class RecordingProxy {
  readonly seen: SeenRequest[] = [];
  corrupt: (url: string) => boolean = () => false;
  private readonly sockets = new WeakMap<Socket, number>();
  private server?: Server;

  constructor(private readonly target: URL) {}

  async start(): Promise<string> {
    let nextSocket = 0;
    this.server = createServer((req, res) => {
      let socket = this.sockets.get(req.socket);
      if (socket === undefined) this.sockets.set(req.socket, (socket = ++nextSocket));
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, socket });
      // Expect is the proxy's own business with its client (node answers 100 Continue itself).
      const { expect: _expect, ...headers } = req.headers;
      const upstream = request(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      const body = this.corrupt(req.url ?? '') ? flipFirstByte() : new PassThrough();
      pipeline(req, body, upstream).catch(() => res.destroy());
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  parts(): SeenRequest[] {
    return this.seen.filter((seen) => seen.method === 'PUT' && /[?&]partNumber=/.test(seen.url));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((done) => this.server?.close(done));
  }
}

function flipFirstByte(): Transform {
  let flipped = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (flipped || chunk.length === 0) return done(null, chunk);
      flipped = true;
      const copy = Buffer.from(chunk);
      copy[0] ^= 0xff;
      done(null, copy);
    },
  });
}

async function sha256Of(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(stream, hash);
  return hash.digest('hex');
}

describe('S3 part requests: what each part costs on the wire (real versitygw behind a recording proxy)', () => {
  let s3: TestS3;
  let proxy: RecordingProxy;
  let store: S3ObjectStore;
  let endpoint: string;

  beforeAll(async () => {
    s3 = await TestS3.start();
    // The bucket is made directly; the store under test talks to versitygw through the proxy.
    const direct = await s3.store();
    proxy = new RecordingProxy(new URL(s3.server.endpoint));
    endpoint = await proxy.start();
    store = new S3ObjectStore({ ...s3.options(direct.bucket), endpoint, partSizeBytes: 5 * MiB });
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    store?.close();
    await proxy?.stop();
    await s3?.stop();
  });

  beforeEach(() => {
    proxy.seen.length = 0;
    proxy.corrupt = () => false;
  });

  it('sends parts with a CRC32 checksum and an unsigned payload, on reused keep-alive connections, without Expect: 100-continue', async () => {
    const size = 32 * MiB + 12345;
    const written = await store.write('media/u1/parts.mp4', patternStream(size));
    expect(written.size).toBe(size);

    const parts = proxy.parts();
    expect(parts).toHaveLength(7);
    for (const part of parts) {
      // S3 checks the CRC32 against the bytes; SigV4 no longer hashes every part with SHA-256 besides.
      expect(part.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
      expect(part.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      expect(part.headers.expect).toBeUndefined();
    }
    // Two parts in flight at a time (S3_QUEUE_SIZE): a handful of pooled connections, not one per part.
    expect(new Set(parts.map((part) => part.socket)).size).toBeLessThanOrEqual(3);

    const read = await store.read('media/u1/parts.mp4');
    expect(read?.size).toBe(size);
    expect(await sha256Of(read!.stream)).toBe(await sha256Of(patternStream(size)));
  });

  it('a part whose bytes change on the way is refused by S3 (the CRC32 still guards it), and nothing is left', async () => {
    proxy.corrupt = (url) => /[?&]partNumber=2(&|$)/.test(url);
    await expect(store.write('media/u1/corrupt.mp4', patternStream(16 * MiB))).rejects.toThrow(
      StorageUnavailableError,
    );
    expect(proxy.parts().some((part) => /[?&]partNumber=2(&|$)/.test(part.url))).toBe(true);
    expect(await store.head('media/u1/corrupt.mp4')).toBeNull();
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
  });

  it('a small object is one PUT with a CRC32 checksum and an unsigned payload', async () => {
    await store.write('media/u1/small.jpg', patternStream(100_000));
    const puts = proxy.seen.filter((seen) => seen.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0].headers['x-amz-checksum-crc32']).toBeDefined();
    expect(puts[0].headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect((await store.head('media/u1/small.jpg'))?.size).toBe(100_000);
  });

  it('a single-request upload streams straight to its media key: no copy, nothing in tmp/, nothing left of a refusal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3-in-place-'));
    const appStore = await s3.store();
    const bucket = appStore.bucket;
    const t = await createTestApp({ env: { ...s3AppEnv(s3, bucket), S3_ENDPOINT: endpoint } });
    try {
      const user = await registerUser(t.url, 'in-place');
      const video = await largeMp4Like(dir, 12 * MiB);
      proxy.seen.length = 0;
      const res = await upload(t.url, { parts: videoParts(video), headers: user.auth });
      expect(res.status).toBe(201);
      const { uploadId } = res.body as { uploadId: string };
      const key = `${bucket}/media/${user.id}/${uploadId}.mp4`;
      const writes = proxy.seen.filter((seen) => seen.method === 'PUT' || seen.method === 'POST');
      expect(proxy.parts().length).toBeGreaterThanOrEqual(2);
      for (const write of writes) expect(decodeURIComponent(write.url)).toContain(key);
      // A promote would be a CopyObject (x-amz-copy-source) of the whole file, as long as the upload itself.
      expect(proxy.seen.filter((seen) => seen.headers['x-amz-copy-source'])).toEqual([]);

      // The fields after the file: stored at the media key under the broad category, then refused by fileType.
      const refused = await upload(t.url, {
        parts: [
          ...videoParts(video).filter((part) => part.name === 'file'),
          { name: 'fileType', value: 'photo' },
        ],
        headers: user.auth,
      });
      expect(refused.status).toBe(415);
      const left = await appStore.list('');
      expect(withoutDerived(left.map((object) => object.key))).toEqual([`media/${user.id}/${uploadId}.mp4`]);
      expect(await s3.incompleteUploads(bucket)).toBe(0);
    } finally {
      await t.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
