import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnvironmentVariables } from '../../src/config/env.schema';
import { S3StorageDriver } from '../../src/storage';
import { StorageUnavailableError } from '../../src/storage/s3';
import { pieceKey, tailPrefix, uploadMarker } from '../../src/storage/s3/assembly-state';
import { HEAD_BYTES } from '../../src/storage/s3/s3-assembly';
import { patternStream, S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;
const KEY = 'chunks/u1/s1/data';
/** The shipped S3_PART_SIZE (TestS3.options): openWriteAt stores a piece per part size. */
const PART = new EnvironmentVariables().S3_PART_SIZE;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** What the contract does not see: how an assembly maps onto S3 (parts, pieces, crashes, the sweeper, memory). */
describe('S3 assembly (real versitygw)', () => {
  let s3: TestS3;
  let bucket: string;
  const drivers: S3StorageDriver[] = [];

  /** A driver on the test's bucket: one per app instance. */
  async function instance(): Promise<S3StorageDriver> {
    const driver = new S3StorageDriver({
      store: s3.options(bucket),
      downloadMode: 'stream',
      downloadTtlSeconds: 60,
      createBucket: true,
    });
    await driver.onModuleInit();
    drivers.push(driver);
    return driver;
  }

  beforeAll(async () => {
    s3 = await TestS3.start();
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(() => s3?.stop());
  beforeEach(() => (bucket = `assembly-${randomBytes(6).toString('hex')}`));
  afterEach(() => drivers.splice(0).forEach((driver) => driver.onModuleDestroy()));

  const storeObject = (driver: S3StorageDriver, key: string, bytes: Buffer | Readable) =>
    pipeline(Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes, driver.openWrite(key));
  const readAll = async (driver: S3StorageDriver, key: string) =>
    Buffer.concat(await driver.openRead(key).toArray());
  const upload = async (driver: S3StorageDriver) => {
    const uploads = (await driver.store.listIncompleteUploads(KEY)).filter((found) => found.key === KEY);
    return uploads[0];
  };
  const partSizes = async (driver: S3StorageDriver) => {
    const found = await upload(driver);
    return found ? (await driver.store.listParts(found)).map((part) => part.size / MiB) : [];
  };
  /** The assembly's tail pieces, as `offset:size`. */
  const tailPieces = async (driver: S3StorageDriver) =>
    (await driver.store.list(tailPrefix(KEY)))
      .filter((object) => /\/\d+$/.test(object.key))
      .map((object) => `${Number(object.key.slice(tailPrefix(KEY).length))}:${object.size}`);
  /** Commits `length` and appends a stored object of `bytes` (a seed chunk request). */
  async function appendChunk(driver: S3StorageDriver, length: number, bytes: Buffer): Promise<number> {
    await storeObject(driver, 'chunks/u1/s1/incoming', bytes);
    const assembly = driver.assembly(KEY);
    await assembly.truncate(length);
    await assembly.appendObject('chunks/u1/s1/incoming');
    await driver.remove('chunks/u1/s1/incoming');
    return length + bytes.length;
  }

  it('sends only committed bytes: small pieces streamed into one part, the rest of a large one copied server-side', async () => {
    const driver = await instance();
    const pieces = [randomBytes(3 * MiB), randomBytes(12 * MiB), randomBytes(MiB)];
    let length = await appendChunk(driver, 0, pieces[0]);
    length = await appendChunk(driver, length, pieces[1]);
    // 15 MiB stored, but only 3 committed so far: nothing is sent.
    expect(await upload(driver)).toBeUndefined();
    length = await appendChunk(driver, length, pieces[2]);
    // The third request committed 15 MiB: 3 MiB + the first 5 MiB of the 12 (one 8 MiB part), then its other 7.
    expect(await partSizes(driver)).toEqual([8, 7]);
    expect(await driver.assembly(KEY).length()).toBe(16 * MiB);
    expect(await driver.assembly(KEY).readHead(HEAD_BYTES)).toEqual(pieces[0].subarray(0, HEAD_BYTES));
    await expect(driver.assembly(KEY).readHead(HEAD_BYTES + 1)).rejects.toThrow(
      /readable before it is sealed/,
    );
    // A cut into sent parts is a bug in the caller: it fails loudly and changes nothing.
    await expect(driver.assembly(KEY).truncate(MiB)).rejects.toThrow(/sent/);
    await driver.assembly(KEY).seal(length);
    expect(sha256(await readAll(driver, KEY))).toBe(sha256(Buffer.concat(pieces)));
    expect(await driver.list('chunks')).toEqual([expect.objectContaining({ key: KEY })]);
    expect(await s3.incompleteUploads(bucket)).toBe(0);
  });

  it('openWriteAt appends only at the current length; a destroyed stream keeps its whole pieces, truncate drops them', async () => {
    const driver = await instance();
    await driver.assembly(KEY).truncate(0);
    await driver.assembly(KEY).append(Buffer.from('abc'));
    await expect(
      pipeline(Readable.from([Buffer.from('x')]), driver.assembly(KEY).openWriteAt(1)),
    ).rejects.toThrow(/only append/);
    const writable = driver.assembly(KEY).openWriteAt(3);
    const closed = new Promise((resolve) => writable.once('close', resolve));
    writable.on('error', () => undefined);
    await writeAccepted(writable, patternStream(PART + 2 * MiB));
    writable.destroy(new Error('client went away'));
    await closed;
    // One whole piece of PART bytes; the 2 MiB after it were in a part buffer, never stored.
    expect(await tailPieces(driver)).toEqual([`0:3`, `3:${PART}`]);
    expect(await driver.assembly(KEY).length()).toBe(3 + PART);
    // A caller that must drop the whole write (a failed Upload-Checksum) cuts at its offset, a piece boundary.
    await driver.assembly(KEY).truncate(3);
    expect(await driver.assembly(KEY).length()).toBe(3);
    expect((await driver.assembly(KEY).readHead(10)).toString()).toBe('abc');
    expect(await s3.incompleteUploads(bucket)).toBe(0);
  });

  it('S3 dying mid-write: the write fails, the pieces stored before it stay, removal leaves nothing', async () => {
    const driver = await instance();
    const first = randomBytes(6 * MiB);
    await pipeline(Readable.from([first]), driver.assembly(KEY).openWriteAt(0));
    // The next write sends the first as a part: the assembly's own multipart upload is open.
    const writable = driver.assembly(KEY).openWriteAt(first.length);
    const closed = new Promise((resolve) => writable.once('close', resolve));
    let failure: unknown;
    writable.on('error', (error) => (failure = error));
    const body = randomBytes(2 * PART + MiB);
    await writeAccepted(writable, Readable.from([body.subarray(0, PART + MiB)]));
    await waitFor(async () => (await tailPieces(driver)).includes(`${first.length}:${PART}`));
    expect(await partSizes(driver)).toEqual([6]);
    await s3.server.kill();
    // The second piece fills up and its PUT finds no S3.
    writable.write(body.subarray(PART + MiB));
    await closed;
    expect(failure).toBeInstanceOf(StorageUnavailableError);

    await s3.restart();
    const other = await instance();
    expect(await other.assembly(KEY).length()).toBe(first.length + PART);
    // It continues from there, byte for byte.
    let length = first.length + PART;
    await pipeline(Readable.from([body.subarray(PART)]), other.assembly(KEY).openWriteAt(length));
    length += body.length - PART;
    await other.assembly(KEY).seal(length);
    expect(sha256(await readAll(other, KEY))).toBe(sha256(Buffer.concat([first, body])));
    await other.remove(KEY);
    expect(await other.list('chunks')).toEqual([]);
    expect(await s3.incompleteUploads(bucket)).toBe(0);
  }, 60_000);

  it('continues byte for byte after a crash between the parts of a flush (parts sent, pieces not yet deleted)', async () => {
    const driver = await instance();
    const [small, large] = [randomBytes(3 * MiB), randomBytes(12 * MiB)];
    // The state a flush leaves when killed after its first part: the head copy, part 1 = small + 5 MiB of large.
    await driver.store.putObject(pieceKey(KEY, 0), small);
    await driver.store.putObject(pieceKey(KEY, small.length), large);
    await driver.store.putObject(`${KEY}.tail/head`, small.subarray(0, HEAD_BYTES));
    const ref = await driver.store.createMultipart(KEY, { checksums: false });
    await driver.store.putObject(uploadMarker(KEY, ref.uploadId), Buffer.alloc(0));
    const first = Buffer.concat([small, large.subarray(0, 5 * MiB)]);
    await driver.store.uploadPart(ref, 1, first, first.length);

    const other = await instance();
    expect(await other.assembly(KEY).length()).toBe(15 * MiB);
    let length = await appendChunk(other, 15 * MiB, Buffer.from('end'));
    length = await appendChunk(other, length, Buffer.from('!'));
    expect(await partSizes(other)).toEqual([8, 7]);
    await other.assembly(KEY).seal(length);
    expect(sha256(await readAll(other, KEY))).toBe(
      sha256(Buffer.concat([small, large, Buffer.from('end!')])),
    );
    expect((await other.list('chunks')).map((object) => object.key)).toEqual([KEY]);
  });

  it('an upload aborted from outside is a loud error, not an assembly that silently lost its parts', async () => {
    const driver = await instance();
    const length = await appendChunk(driver, 0, randomBytes(6 * MiB));
    await appendChunk(driver, length, Buffer.from('x'));
    await driver.store.abortMultipart(await upload(driver));
    await expect(driver.assembly(KEY).length()).rejects.toThrow(/multipart upload of .* is gone/);
    await driver.remove(KEY);
    expect(await driver.assembly(KEY).length()).toBeUndefined();
  });

  it('instances take turns on one assembly: each reads its state from S3', async () => {
    const [a, b] = [await instance(), await instance()];
    const chunks = Array.from({ length: 12 }, () => randomBytes(MiB + 17));
    let length = 0;
    for (const [index, chunk] of chunks.entries())
      length = await appendChunk(index % 2 ? b : a, length, chunk);
    expect(await partSizes(a)).toEqual([(8 * (MiB + 17)) / MiB]);
    await b.assembly(KEY).seal(length);
    await a.assembly(KEY).seal(length);
    expect(sha256(await readAll(a, KEY))).toBe(sha256(Buffer.concat(chunks)));
  });

  it('the sweeper leaves a long-running assembly alone while it has recent pieces, and aborts it once abandoned', async () => {
    const driver = await instance();
    let length = await appendChunk(driver, 0, randomBytes(9 * MiB));
    length = await appendChunk(driver, length, Buffer.from('a'));
    const started = (await upload(driver)).initiated!.getTime();
    // S3 dates to the second: the next piece must come in a later second than the upload's start.
    await waitFor(() => Promise.resolve(Date.now() >= started + 1100));
    await appendChunk(driver, length, Buffer.from('b'));
    expect(await driver.abortIncompleteWrites('chunks', new Date(started + 500))).toBe(0);
    expect(await s3.incompleteUploads(bucket)).toBe(1);
    expect(await driver.abortIncompleteWrites('chunks', new Date(Date.now() + 60_000))).toBe(1);
    expect(await s3.incompleteUploads(bucket)).toBe(0);
  });

  it('keeps memory flat: a 100 MB chunk is copied server-side, 40 small pieces stream through in blocks', async () => {
    const driver = await instance();
    await storeObject(driver, 'chunks/u1/s1/big', patternStream(100 * MiB));
    const small = Array.from({ length: 40 }, (_, index) => `chunks/u1/s1/small-${index}`);
    for (const key of small) await storeObject(driver, key, patternStream(MiB + 1));
    let length = 0;
    const append = async (key: string) => {
      const assembly = driver.assembly(KEY);
      await assembly.truncate(length);
      await assembly.appendObject(key);
      length += (await driver.stat(key))!.size;
    };
    // The big chunk is appended, then committed and sent as parts by the next append: no byte through here.
    const copied = await peakMemoryGrowth(async () => {
      await append('chunks/u1/s1/big');
      await append(small[0]);
    });
    const streamed = await peakMemoryGrowth(async () => {
      for (const key of small.slice(1)) await append(key);
      await driver.assembly(KEY).seal(length);
    });
    expect((await driver.stat(KEY))?.size).toBe(100 * MiB + 40 * (MiB + 1));
    const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
    process.stdout.write(
      `[s3 assembly] memory growth: 100 MB copied: buffers ${mib(copied.buffers)}, rss ${mib(copied.rss)}; ` +
        `40 MB streamed: buffers ${mib(streamed.buffers)}, rss ${mib(streamed.rss)}\n`,
    );
    expect(copied.buffers).toBeLessThan(8 * MiB);
    expect(streamed.rss).toBeLessThan(40 * MiB);
  });
});

/** The largest growth of RSS and of Buffer memory while `run` runs, sampled every 5 ms. */
async function peakMemoryGrowth(run: () => Promise<void>): Promise<{ rss: number; buffers: number }> {
  const start = process.memoryUsage();
  const peak = { rss: 0, buffers: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, now.rss - start.rss);
    peak.buffers = Math.max(peak.buffers, now.arrayBuffers - start.arrayBuffers);
  };
  const timer = setInterval(sample, 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
    sample();
  }
  return peak;
}

/** Writes every chunk of `source` into `writable`, each accepted (its callback called) before the next. */
async function writeAccepted(writable: Writable, source: Readable): Promise<void> {
  for await (const chunk of source as AsyncIterable<Buffer>) {
    await new Promise<void>((resolve, reject) =>
      writable.write(chunk, (error) => (error ? reject(error) : resolve())),
    );
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
