import type { ConfigService } from '@nestjs/config';
import { ERRORS, Upload } from '@tus/utils';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AppConfig } from '../../config';
import { LocalDiskDriver } from '../local-disk.driver';
import { S3TusStore } from './s3-tus-store';

/** The store only needs assemblies: the local driver's stand in for S3's (test/s3/tus-*.e2e-spec.ts run on S3). */
describe('S3TusStore (over the local driver assemblies)', () => {
  let root: string;
  let driver: LocalDiskDriver;
  let info: Map<string, Upload>;
  let store: S3TusStore;

  const body = (text: string) => Readable.from([Buffer.from(text)]);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 's3-tus-store-'));
    const config = { get: () => ({ uploadDir: root }) } as unknown as ConfigService<AppConfig, true>;
    driver = new LocalDiskDriver(config);
    await driver.onModuleInit();
    info = new Map();
    const configstore = {
      get: (id: string) => Promise.resolve(info.get(id)),
      set: (id: string, upload: Upload) => Promise.resolve(void info.set(id, new Upload({ ...upload }))),
      delete: (id: string) => Promise.resolve(void info.delete(id)),
      list: () => Promise.resolve([...info.keys()]),
    };
    store = new S3TusStore({ assemblies: driver, configstore, expiryMs: 60_000 });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('advertises what the local store does (checksum is added by the tus module)', () => {
    expect(store.extensions).toEqual([
      'creation',
      'creation-with-upload',
      'creation-defer-length',
      'termination',
      'expiration',
    ]);
    expect(store.getExpiration()).toBe(60_000);
  });

  it('creates the info and an empty assembly; the offset is the assembly length', async () => {
    const created = await store.create(new Upload({ id: 't1', size: 6, offset: 0, metadata: { a: 'b' } }));
    expect(created.storage).toEqual({ type: 's3', path: 'tus/t1' });
    expect(await driver.assembly('tus/t1').length()).toBe(0);
    expect(await store.getUpload('t1')).toMatchObject({ id: 't1', size: 6, offset: 0, metadata: { a: 'b' } });

    expect(await store.write(body('abc'), 't1', 0)).toBe(3);
    expect(await store.write(body('def'), 't1', 3)).toBe(6);
    expect(await store.getUpload('t1')).toMatchObject({ offset: 6, storage: { path: 'tus/t1' } });
    expect((await driver.assembly('tus/t1').readHead(10)).toString()).toBe('abcdef');
  });

  it('declares a deferred length in the info', async () => {
    await store.create(new Upload({ id: 't2', offset: 0 }));
    expect((await store.getUpload('t2')).size).toBeUndefined();
    await store.declareUploadLength('t2', 42);
    expect(await store.getUpload('t2')).toMatchObject({ size: 42 });
  });

  it('terminates an upload: its bytes and info are gone; an unknown upload is 404', async () => {
    await store.create(new Upload({ id: 't3', size: 3, offset: 0 }));
    await store.write(body('abc'), 't3', 0);
    await store.remove('t3');
    expect(await driver.stat('tus/t3')).toBeUndefined();
    expect(info.has('t3')).toBe(false);
    await expect(store.remove('t3')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
    await expect(store.getUpload('t3')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
    await expect(store.declareUploadLength('t3', 1)).rejects.toBe(ERRORS.FILE_NOT_FOUND);
  });

  it('deletes expired unfinished uploads, keeping fresh ones and finished ones (no bytes left under tus/)', async () => {
    const old = new Date(Date.now() - 120_000).toISOString();
    await store.create(new Upload({ id: 'stale', size: 5, offset: 0, creation_date: old }));
    await store.write(body('ab'), 'stale', 0);
    await store.create(new Upload({ id: 'finished', size: 5, offset: 0, creation_date: old }));
    await driver.remove('tus/finished'); // promoted to media/
    await store.create(new Upload({ id: 'fresh', size: 5, offset: 0 }));
    await store.write(body('ab'), 'fresh', 0);

    expect(await store.deleteExpired()).toBe(1);
    expect([...info.keys()].sort()).toEqual(['finished', 'fresh']);
    expect(await driver.stat('tus/stale')).toBeUndefined();
    expect(await driver.stat('tus/fresh')).toMatchObject({ size: 2 });
  });
});
