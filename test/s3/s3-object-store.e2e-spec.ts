import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { RangeNotSatisfiableError, S3ObjectStore } from '../../src/storage/s3';
import { patternStream, S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Hashes what passes through, so the source's digest is known without keeping its bytes. */
function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

describe('S3ObjectStore on a real versitygw', () => {
  let s3: TestS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(() => s3?.stop());

  it('streams a 200 MB write into a multipart upload with bounded memory and reads back the same SHA-256', async () => {
    const size = 200 * MiB;
    const sourceHash = createHash('sha256');
    const source = patternStream(size).pipe(hashing(sourceHash));
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
    }, 20);
    const started = Date.now();
    let written: { size: number; etag: string };
    try {
      written = await store.write('media/u1/big.bin', source, { contentType: 'application/octet-stream' });
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    const rssGrowth = (peakRss - baseline.rss) / MiB;
    const heapGrowth = (peakHeap - baseline.heapUsed) / MiB;
    process.stderr.write(
      `[s3 200 MB write] ${seconds.toFixed(1)} s, ${(200 / seconds).toFixed(0)} MB/s, ` +
        `peak RSS growth ${rssGrowth.toFixed(1)} MiB, peak heap growth ${heapGrowth.toFixed(1)} MiB\n`,
    );
    expect(written.size).toBe(size);
    // A multipart ETag ends in -<parts>: the bytes went up in parts, never as one buffered PUT.
    expect(written.etag).toMatch(/-25"?$/);
    // (queue + 1) × part = 24 MiB of part buffers by default, reused: no garbage per part.
    expect(rssGrowth).toBeLessThan(96);
    const read = await store.read('media/u1/big.bin');
    expect(read).not.toBeNull();
    expect(read!.size).toBe(size);
    expect(await sha256(read!.stream)).toBe(sourceHash.digest('hex'));
  }, 180_000);

  it('writes a body smaller than one part as a single object with its content type', async () => {
    const body = Buffer.from('hello, small object');
    const written = await store.write('media/u1/small.txt', Readable.from([body]), {
      contentType: 'text/plain',
    });
    expect(written.size).toBe(body.length);
    expect(await store.head('media/u1/small.txt')).toMatchObject({
      size: body.length,
      etag: written.etag,
      contentType: 'text/plain',
    });
  });

  describe('ranges', () => {
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

    beforeAll(() => store.write('media/u1/range.bin', Readable.from([body])));

    it.each([
      [0, 0],
      [0, 99],
      [500, 749],
      [990, 999],
    ])('reads bytes %i-%i', async (start, end) => {
      const read = await store.read('media/u1/range.bin', { start, end });
      expect(read).toMatchObject({ size: 1000, length: end - start + 1, range: { start, end } });
      expect(await bytesOf(read!.stream)).toEqual(body.subarray(start, end + 1));
    });

    it('clips a range past the end to the last byte, as HTTP does', async () => {
      const read = await store.read('media/u1/range.bin', { start: 900, end: 5000 });
      expect(read).toMatchObject({ length: 100, range: { start: 900, end: 999 } });
      expect(await bytesOf(read!.stream)).toEqual(body.subarray(900));
    });

    it('rejects a range that starts past the end with RangeNotSatisfiableError', async () => {
      await expect(store.read('media/u1/range.bin', { start: 1000, end: 1100 })).rejects.toBeInstanceOf(
        RangeNotSatisfiableError,
      );
    });
  });

  it('answers null for a missing object on read and head, and deletes missing objects quietly', async () => {
    expect(await store.read('media/u1/none')).toBeNull();
    expect(await store.head('media/u1/none')).toBeNull();
    await expect(store.delete('media/u1/none')).resolves.toBeUndefined();
  });

  it('copies and moves server-side, and deletes a prefix with its incomplete uploads', async () => {
    const body = Buffer.from('copy me');
    await store.write('tmp/a', Readable.from([body]));
    await store.copy('tmp/a', 'tmp/b');
    await store.move('tmp/b', 'chunks/u1/s1/data');
    expect(await store.head('tmp/b')).toBeNull();
    expect(await bytesOf((await store.read('chunks/u1/s1/data'))!.stream)).toEqual(body);
    await store.write('chunks/u1/s1/part-2', Readable.from([body]));
    await store.createMultipart('chunks/u1/s1/assembly');

    expect(await store.deletePrefix('chunks/u1/s1/')).toEqual({ objects: 2, uploads: 1 });
    expect(await store.head('chunks/u1/s1/data')).toBeNull();
    expect(await store.listIncompleteUploads('chunks/u1/s1/')).toEqual([]);
    expect(await store.head('tmp/a')).not.toBeNull();
    await expect(store.copy('tmp/none', 'tmp/c')).rejects.toThrow('no object at tmp/none');
  });

  it('presigns a GET that works without credentials, with the response headers asked for', async () => {
    await store.write('media/u1/signed.txt', Readable.from([Buffer.from('signed body')]));
    const url = await store.presignGet('media/u1/signed.txt', 60, {
      contentType: 'text/plain',
      contentDisposition: 'attachment; filename="signed.txt"',
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="signed.txt"');
    expect(await response.text()).toBe('signed body');
    expect((await fetch(url.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=00'))).status).toBe(403);
  });

  it('keeps each object where its key says (checked with a plain SDK client)', async () => {
    const client = s3.client();
    try {
      const head = await client.send(
        new HeadObjectCommand({ Bucket: store.bucket, Key: 'media/u1/big.bin' }),
      );
      expect(head.ContentLength).toBe(200 * MiB);
    } finally {
      client.destroy();
    }
  });
});
