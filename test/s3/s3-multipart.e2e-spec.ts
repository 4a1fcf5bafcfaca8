import { Readable } from 'node:stream';
import { MIN_PART_BYTES, S3ObjectStore, UploadedPart } from '../../src/storage/s3';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `length` bytes whose value depends on `seed`, so parts in the wrong place show. */
function filled(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7) % 256;
  return bytes;
}

/** A stream of `bytes` in 64 KiB chunks. */
function streamOf(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 65536) chunks.push(bytes.subarray(i, i + 65536));
  return Readable.from(chunks);
}

describe('S3 multipart primitives (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(() => s3?.stop());

  it('assembles parts uploaded out of order, from streams and buffers, into the right bytes', async () => {
    const parts = [filled(MIN_PART_BYTES, 1), filled(MIN_PART_BYTES, 2), filled(1000, 3)];
    const ref = await store.createMultipart('chunks/u1/s1/data', { contentType: 'video/mp4' });
    const uploaded: UploadedPart[] = [];
    uploaded.push(await store.uploadPart(ref, 3, streamOf(parts[2]), parts[2].length));
    // A first try of part 1 with the wrong bytes, then the retry: the last upload of a number wins.
    await store.uploadPart(ref, 1, filled(MIN_PART_BYTES, 9), MIN_PART_BYTES);
    uploaded.push(await store.uploadPart(ref, 1, parts[0], parts[0].length));
    uploaded.push(await store.uploadPart(ref, 2, streamOf(parts[1]), parts[1].length));

    const listed = await store.listParts(ref);
    expect(listed.map(({ partNumber, size }) => [partNumber, size])).toEqual([
      [1, MIN_PART_BYTES],
      [2, MIN_PART_BYTES],
      [3, 1000],
    ]);
    await store.completeMultipart(ref, uploaded);

    const read = await store.read('chunks/u1/s1/data');
    expect(read).toMatchObject({ size: 2 * MIN_PART_BYTES + 1000, contentType: 'video/mp4' });
    expect((await bytesOf(read!.stream)).equals(Buffer.concat(parts))).toBe(true);
    expect(await store.listIncompleteUploads('chunks/u1/s1/')).toEqual([]);
  });

  it('rejects a part stream shorter or longer than its length, without hanging', async () => {
    const ref = await store.createMultipart('chunks/u1/s2/data');
    await expect(store.uploadPart(ref, 1, streamOf(filled(1000, 1)), 2000)).rejects.toThrow(
      'ended after 1000 of 2000 bytes',
    );
    await expect(store.uploadPart(ref, 1, streamOf(filled(3000, 1)), 2000)).rejects.toThrow('longer than');
    await expect(store.uploadPart(ref, 1, filled(10, 1), 11)).rejects.toThrow('not 11');
    await store.abortMultipart(ref);
    // Aborting twice is fine (cleanup runs more than once).
    await store.abortMultipart(ref);
    expect(await store.listIncompleteUploads('chunks/u1/s2/')).toEqual([]);
  });

  it('stops a part upload when its signal aborts', async () => {
    const ref = await store.createMultipart('chunks/u1/s3/data');
    const controller = new AbortController();
    const endless = new Readable({ read() {} });
    endless.push(filled(65536, 1));
    const upload = store.uploadPart(ref, 1, endless, MIN_PART_BYTES, { signal: controller.signal });
    const reason = new Error('chunk cancelled');
    setImmediate(() => controller.abort(reason));
    await expect(upload).rejects.toBe(reason);
    await store.abortMultipart(ref);
  });

  it('aborts only the incomplete uploads older than asked, under the prefix', async () => {
    const kept = await store.createMultipart('tus/keep');
    await store.createMultipart('chunks/u2/a/data');
    await store.createMultipart('chunks/u2/b/data');

    expect(await store.abortIncompleteUploads('chunks/u2/', new Date(Date.now() - 3600_000))).toBe(0);
    expect(await store.abortIncompleteUploads('chunks/u2/', new Date(Date.now() + 60_000))).toBe(2);
    expect(await store.listIncompleteUploads('chunks/u2/')).toEqual([]);
    expect((await store.listIncompleteUploads('tus/')).map((upload) => upload.uploadId)).toEqual([
      kept.uploadId,
    ]);
    await store.abortMultipart(kept);
  });
});
