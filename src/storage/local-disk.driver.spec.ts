import type { ConfigService } from '@nestjs/config';
import { Upload } from '@tus/utils';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import type { AppConfig } from '../config';
import { LocalDiskDriver } from './local-disk.driver';
import { UnsafePathError } from './safe-path';
import { assemblyContract, storageDriverContract } from './storage-driver.contract';

describe('LocalDiskDriver', () => {
  let root: string;
  let driver: LocalDiskDriver;

  const write = (key: string, body: string) =>
    pipeline(Readable.from([Buffer.from(body)]), driver.openWrite(key));
  const read = (key: string, range?: { start: number; end: number }) => text(driver.openRead(key, range));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-disk-driver-'));
    const config = { get: () => ({ uploadDir: root }) } as unknown as ConfigService<AppConfig, true>;
    driver = new LocalDiskDriver(config);
    await driver.onModuleInit();
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  describe('the StorageDriver contract', () => storageDriverContract(() => driver));
  describe('the Assembly contract', () => assemblyContract(() => driver));

  it('stores an object as a file under its key', async () => {
    await write('tmp/a.part', 'hello storage');
    expect(await readFile(join(root, 'tmp', 'a.part'), 'utf8')).toBe('hello storage');
  });

  it('never overwrites an existing object', async () => {
    await write('tmp/a.part', 'first');
    await expect(write('tmp/a.part', 'second')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await read('tmp/a.part')).toBe('first');
  });

  it('removes a prefix as its folder', async () => {
    await driver.ensurePrefix('chunks/u1/s1');
    await write('chunks/u1/s1/part-1', 'a');
    await driver.removePrefix('chunks/u1/s1');
    await expect(stat(join(root, 'chunks', 'u1', 's1'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to write under a prefix that was never made (or was removed)', async () => {
    await expect(write('chunks/u1/gone/incoming-1', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('assembles appended objects and bytes, and truncate drops an uncommitted piece', async () => {
    await driver.ensurePrefix('chunks/u1/s1');
    const data = driver.assembly('chunks/u1/s1/data');
    await data.truncate(0);
    expect(await read('chunks/u1/s1/data')).toBe('');
    await write('tmp/chunk-0', 'abc');
    await write('tmp/chunk-1', 'def');
    await data.appendObject('tmp/chunk-0');
    await data.appendObject('tmp/chunk-1');
    await data.append(Buffer.from('gh'));
    expect(await read('chunks/u1/s1/data')).toBe('abcdefgh');
    await data.truncate(6);
    await data.appendObject('tmp/chunk-0');
    expect(await read('chunks/u1/s1/data')).toBe('abcdefabc');
    await data.seal(3);
    expect(await read('chunks/u1/s1/data')).toBe('abc');
  });

  it('writes into an existing assembly at an offset (a tus PATCH), and not into a missing one', async () => {
    const upload = driver.assembly('tus/t1');
    await upload.truncate(0);
    await pipeline(Readable.from([Buffer.from('0123')]), upload.openWriteAt(0));
    await pipeline(Readable.from([Buffer.from('4567')]), upload.openWriteAt(4));
    expect(await read('tus/t1')).toBe('01234567');
    await expect(
      pipeline(Readable.from([Buffer.from('x')]), driver.assembly('tus/t2').openWriteAt(0)),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(driver.assembly('tus/t2').truncate(5)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never reaches a file outside the root through a key', async () => {
    await writeFile(join(root, 'secret'), 'secret');
    expect(() => driver.openWrite('tmp/../secret')).toThrow(UnsafePathError);
    await expect(driver.remove('media/..')).rejects.toThrow(UnsafePathError);
    expect(await readFile(join(root, 'secret'), 'utf8')).toBe('secret');
  });

  it('gives tus a DataStore over the tus area that reports keys, not file paths', async () => {
    const info = new Map<string, Upload>();
    const configstore = {
      get: (id: string) => Promise.resolve(info.get(id)),
      set: (id: string, upload: Upload) => Promise.resolve(void info.set(id, upload)),
      delete: (id: string) => Promise.resolve(void info.delete(id)),
      list: () => Promise.resolve([...info.keys()]),
    };
    const store = driver.tusDataStore({ configstore, expiryMs: 1000 });
    expect(store.getExpiration()).toBe(1000);
    const created = await store.create(new Upload({ id: 't1', size: 3, offset: 0 }));
    expect(created.storage).toEqual({ type: 'file', path: 'tus/t1' });
    await pipeline(Readable.from([Buffer.from('abc')]), driver.assembly('tus/t1').openWriteAt(0));
    const upload = await store.getUpload('t1');
    expect(upload).toMatchObject({ offset: 3, size: 3, storage: { path: 'tus/t1' } });
    await store.remove('t1');
    expect(await driver.stat('tus/t1')).toBeUndefined();
  });
});
