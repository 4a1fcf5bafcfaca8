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
