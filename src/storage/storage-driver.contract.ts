import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import { UnsafePathError } from './safe-path';
import type { StorageDriver } from './storage-driver';

/**
 * What every StorageDriver does, whatever keeps the bytes: run by local-disk.driver.spec.ts against a temporary
 * folder and by test/s3/s3-storage-driver.e2e-spec.ts against a real S3 server. `driver` is called in each test,
 * after the caller's beforeEach made a fresh one.
 */
export function storageDriverContract(driver: () => StorageDriver): void {
  const write = (key: string, body: string) =>
    pipeline(Readable.from([Buffer.from(body)]), driver().openWrite(key));
  const read = (key: string, range?: { start: number; end: number }) => text(driver().openRead(key, range));

  it('writes a new object and reads it whole, by range and by its head', async () => {
    await write('tmp/a.part', 'hello storage');
    expect(await read('tmp/a.part')).toBe('hello storage');
    expect(await read('tmp/a.part', { start: 6, end: 12 })).toBe('storage');
    expect((await driver().readHead('tmp/a.part', 5)).toString()).toBe('hello');
    expect((await driver().readHead('tmp/a.part', 100)).toString()).toBe('hello storage');
  });

  it('writes and reads an empty object', async () => {
    await write('tmp/empty', '');
    expect(await read('tmp/empty')).toBe('');
    expect(await driver().readHead('tmp/empty', 10)).toEqual(Buffer.alloc(0));
    expect((await driver().stat('tmp/empty'))?.size).toBe(0);
  });

  it('stats an object, and answers undefined for a missing one', async () => {
    await write('tmp/a.part', '12345');
    const found = await driver().stat('tmp/a.part');
    expect(found?.size).toBe(5);
    expect(typeof found?.etag).toBe('string');
    expect(Math.abs(Date.now() - (found?.modifiedAt.getTime() ?? 0))).toBeLessThan(60_000);
    expect(await driver().stat('tmp/missing')).toBeUndefined();
    await write('tmp/b.part', '123456');
    expect((await driver().stat('tmp/b.part'))?.etag).not.toBe(found?.etag);
  });

  it('fails to read, head or move a missing object', async () => {
    await expect(read('tmp/missing')).rejects.toThrow();
    await expect(driver().readHead('tmp/missing', 4)).rejects.toThrow();
    await expect(driver().move('tmp/missing', 'tmp/elsewhere')).rejects.toThrow();
  });

  it('promotes into a new prefix, moves, and removes (a missing object is fine)', async () => {
    await write('tmp/a.part', 'bytes');
    await driver().promote('tmp/a.part', 'media/u1/up-1.mp4');
    expect(await driver().stat('tmp/a.part')).toBeUndefined();
    expect(await read('media/u1/up-1.mp4')).toBe('bytes');
    await driver().move('media/u1/up-1.mp4', 'media/u1/up-2.mp4');
    expect(await driver().stat('media/u1/up-1.mp4')).toBeUndefined();
    expect(await read('media/u1/up-2.mp4')).toBe('bytes');
    await driver().remove('media/u1/up-2.mp4');
    await driver().remove('media/u1/up-2.mp4');
    expect(await driver().stat('media/u1/up-2.mp4')).toBeUndefined();
  });

  it('lists the objects under a prefix, and removes a prefix with everything under it', async () => {
    await driver().ensurePrefix('chunks/u1/s1');
    await driver().ensurePrefix('chunks/u1/s10');
    await write('chunks/u1/s1/part-1', 'a');
    await write('chunks/u1/s1/part-2', 'bc');
    await write('chunks/u1/s10/part-1', 'd');
    await write('tmp/x', 'xyz');
    const listed = await driver().list('chunks');
    expect(listed.map(({ key, size }) => ({ key, size })).sort((a, b) => a.key.localeCompare(b.key))).toEqual(
      [
        { key: 'chunks/u1/s1/part-1', size: 1 },
        { key: 'chunks/u1/s1/part-2', size: 2 },
        { key: 'chunks/u1/s10/part-1', size: 1 },
      ],
    );
    expect((await driver().list('tmp')).map((object) => object.key)).toEqual(['tmp/x']);
    await driver().removePrefix('chunks/u1/s1');
    expect((await driver().list('chunks')).map((object) => object.key)).toEqual(['chunks/u1/s10/part-1']);
    await driver().removePrefix('chunks/u1/s1');
  });

  it('answers no download URL unless configured to redirect', async () => {
    await driver().ensurePrefix('media/u1');
    await write('media/u1/a.jpg', 'x');
    expect(await driver().downloadUrl('media/u1/a.jpg')).toBeUndefined();
  });

  it('checks every key, so no call can reach outside its area', async () => {
    expect(() => driver().openWrite('tmp/../secret')).toThrow(UnsafePathError);
    expect(() => driver().openRead('../secret')).toThrow(UnsafePathError);
    expect(() => driver().assembly('tus/..')).toThrow(UnsafePathError);
    await expect(driver().readHead('/etc/passwd', 10)).rejects.toThrow(UnsafePathError);
    await expect(driver().stat('media/../../x')).rejects.toThrow(UnsafePathError);
    await expect(driver().remove('media/..')).rejects.toThrow(UnsafePathError);
    await expect(driver().removePrefix('tmp/\0')).rejects.toThrow(UnsafePathError);
    await expect(driver().promote('tmp/a', 'media\\..\\secret')).rejects.toThrow(UnsafePathError);
    await expect(driver().list('')).rejects.toThrow(UnsafePathError);
    await expect(driver().downloadUrl('../x')).rejects.toThrow(UnsafePathError);
  });
}

export interface AssemblyContractOptions {
  /** Writes the storage left unfinished (S3: multipart uploads), to check that removal leaves none. */
  unfinishedWrites?: () => Promise<number>;
  /** An interrupted `openWriteAt` keeps whole segments of this size (S3: the part size); unset: every byte (local). */
  keptSegmentBytes?: () => number;
}

/**
 * What every driver's Assembly does (see Assembly), each call on a fresh `assembly(key)` as separate requests
 * would make them, with the committed length passed to `truncate` first, as the seed chunk and tus code do.
 */
export function assemblyContract(driver: () => StorageDriver, options: AssemblyContractOptions = {}): void {
  const MiB = 1024 * 1024;
  const key = 'chunks/u1/s1/data';
  const assembly = () => driver().assembly(key);
  const store = (objectKey: string, bytes: Buffer) =>
    pipeline(Readable.from([bytes]), driver().openWrite(objectKey));
  const readAll = async (objectKey: string) => Buffer.concat(await driver().openRead(objectKey).toArray());
  /** Commits `length`, then appends `bytes` in the given way; returns the new committed length. */
  const appendAt = async (length: number, bytes: Buffer, how: 'bytes' | 'object' | 'stream') => {
    const target = assembly();
    await target.truncate(length);
    if (how === 'bytes') await target.append(bytes);
    if (how === 'stream') await pipeline(Readable.from([bytes]), target.openWriteAt(length));
    if (how === 'object') {
      await store('chunks/u1/s1/incoming', bytes);
      await target.appendObject('chunks/u1/s1/incoming');
      await driver().remove('chunks/u1/s1/incoming');
    }
    return length + bytes.length;
  };

  beforeEach(() => driver().ensurePrefix('chunks/u1/s1'));

  it('exists from its first write; truncate(0) makes it empty', async () => {
    expect(await assembly().length()).toBeUndefined();
    await expect(assembly().readHead(4)).rejects.toThrow();
    await assembly().truncate(0);
    expect(await assembly().length()).toBe(0);
    expect(await assembly().readHead(10)).toEqual(Buffer.alloc(0));
  });

  it('appends bytes, an object and a stream, reads its head before seal, and seals into one object', async () => {
    let length = await appendAt(0, Buffer.from('abc'), 'bytes');
    length = await appendAt(length, Buffer.from('defg'), 'object');
    length = await appendAt(length, Buffer.from('hij'), 'stream');
    expect(await assembly().length()).toBe(10);
    expect((await assembly().readHead(5)).toString()).toBe('abcde');
    expect((await assembly().readHead(100)).toString()).toBe('abcdefghij');
    await assembly().seal(length);
    await assembly().seal(length);
    expect((await readAll(key)).toString()).toBe('abcdefghij');
    expect((await driver().stat(key))?.size).toBe(10);
  });

  it('truncate cuts off an uncommitted piece, so a retried append is never doubled', async () => {
    const committed = await appendAt(0, Buffer.from('aa'), 'bytes');
    await appendAt(committed, Buffer.from('lost'), 'object');
    expect(await assembly().length()).toBe(6);
    const length = await appendAt(committed, Buffer.from('cc'), 'bytes');
    await assembly().seal(length);
    expect((await readAll(key)).toString()).toBe('aacc');
  });

  it('crosses 5 MiB with small pieces, pieces of 5 MiB and more, and uncommitted ones, byte for byte', async () => {
    const sizes = [1, 1, 3, 12, 0.5, 2, 6, 1, 10, 0.25];
    const ways = [
      'bytes',
      'object',
      'stream',
      'stream',
      'object',
      'stream',
      'object',
      'bytes',
      'object',
      'bytes',
    ];
    const pieces = sizes.map((size) => randomBytes(size * MiB));
    let length = 0;
    for (const [index, piece] of pieces.entries()) {
      // Pieces of 12 and 10 MiB are streamed in as several parts: copying them as a part must still complete.
      length = await appendAt(length, piece, ways[index] as 'bytes' | 'object' | 'stream');
      // An uncommitted piece now and then, cut off by the next append's truncate.
      if (index % 4 === 1 && index < pieces.length - 1) await appendAt(length, randomBytes(MiB), 'object');
    }
    const whole = Buffer.concat(pieces);
    expect(await assembly().length()).toBe(whole.length);
    expect(await assembly().readHead(4100)).toEqual(whole.subarray(0, 4100));
    await assembly().truncate(length);
    await assembly().seal(length);
    const sealed = await readAll(key);
    expect(sealed.length).toBe(whole.length);
    expect(sha256(sealed)).toBe(sha256(whole));
  });

  it('a stream broken off after 2.5 segments keeps what it stored, and the write continues from its length', async () => {
    const segment = options.keptSegmentBytes?.() ?? MiB;
    const start = await appendAt(0, Buffer.from('head'), 'bytes');
    const body = randomBytes(2.5 * segment);
    const writable = assembly().openWriteAt(start);
    writable.on('error', () => undefined);
    const closed = new Promise((resolve) => writable.once('close', resolve));
    // Each block accepted before the next: all 2.5 segments are in the stream's hands when the client goes away.
    for (let at = 0; at < body.length; at += 64 * 1024) {
      await new Promise<void>((resolve, reject) =>
        writable.write(body.subarray(at, at + 64 * 1024), (error) => (error ? reject(error) : resolve())),
      );
    }
    writable.destroy(new Error('the client went away'));
    await closed;
    const kept = options.keptSegmentBytes === undefined ? body.length : 2 * segment;
    expect(await assembly().length()).toBe(start + kept);
    const length = await appendAt(start + kept, body.subarray(kept), 'stream');
    await assembly().seal(length);
    expect(sha256(await readAll(key))).toBe(sha256(Buffer.concat([Buffer.from('head'), body])));
    expect(await options.unfinishedWrites?.()).toBeFalsy();
  });

  it('many tiny pieces (a manifest) stay readable whole', async () => {
    const lines = Array.from({ length: 150 }, (_, index) =>
      Buffer.from(`${index} ${'x'.repeat(index % 40)}\n`),
    );
    let length = 0;
    for (const line of lines) length = await appendAt(length, line, 'bytes');
    expect((await assembly().readHead(length)).toString()).toBe(Buffer.concat(lines).toString());
  });

  it('remove and removePrefix leave nothing, whatever state the assembly is in', async () => {
    let length = await appendAt(0, randomBytes(9 * MiB), 'object');
    length = await appendAt(length, randomBytes(MiB), 'bytes');
    await appendAt(length, randomBytes(MiB), 'object');
    await driver().remove(key);
    expect(await assembly().length()).toBeUndefined();
    expect(await driver().stat(key)).toBeUndefined();
    expect(await driver().list('chunks/u1/s1')).toEqual([]);
    expect(await options.unfinishedWrites?.()).toBeFalsy();

    length = await appendAt(0, randomBytes(9 * MiB), 'stream');
    await appendAt(length, Buffer.from('tail'), 'bytes');
    await driver().removePrefix('chunks/u1/s1');
    expect(await driver().list('chunks')).toEqual([]);
    expect(await options.unfinishedWrites?.()).toBeFalsy();
  });
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
