import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { FileStore } from '@tus/file-store';
import type { DataStore, Upload } from '@tus/utils';
import { createReadStream, createWriteStream, WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppConfig } from '../config';
import { safeJoin } from './safe-path';
import {
  Assembly,
  ByteRange,
  ListedObject,
  ObjectStat,
  StorageDriver,
  TusDataStoreOptions,
} from './storage-driver';
import { keySegments, STORAGE_AREAS } from './storage-key';

/** 1 MiB buffers: far fewer syscalls than the 16 KiB default when a fast client streams a large file. */
const HIGH_WATER_MARK = 1024 * 1024;

/**
 * Storage on the local disk, under UPLOAD_DIR: a key is a relative path below it. In-flight and finished files
 * share one filesystem, so promoting an upload is an atomic rename. File paths never leave this class.
 */
@Injectable()
export class LocalDiskDriver extends StorageDriver implements OnModuleInit {
  private readonly root: string;

  constructor(config: ConfigService<AppConfig, true>) {
    super();
    this.root = config.get('storage', { infer: true }).uploadDir;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(STORAGE_AREAS.map((area) => mkdir(safeJoin(this.root, area), { recursive: true })));
  }

  /** `wx`: creates a new file and refuses to overwrite one. */
  openWrite(key: string): Writable {
    return this.openFile(this.pathOf(key), 'wx');
  }

  openRead(key: string, range?: ByteRange): Readable {
    return createReadStream(this.pathOf(key), { ...range, highWaterMark: HIGH_WATER_MARK });
  }

  async readHead(key: string, length: number): Promise<Buffer> {
    const handle = await open(this.pathOf(key), 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async stat(key: string): Promise<ObjectStat | undefined> {
    const stats = await stat(this.pathOf(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!stats) return undefined;
    return {
      size: stats.size,
      modifiedAt: stats.mtime,
      etag: `${stats.size.toString(16)}-${stats.mtimeMs.toString(16)}`,
    };
  }

  async promote(from: string, to: string): Promise<void> {
    const target = this.pathOf(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.pathOf(from), target);
  }

  async move(from: string, to: string): Promise<void> {
    await rename(this.pathOf(from), this.pathOf(to));
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async removePrefix(prefix: string): Promise<void> {
    await rm(this.pathOf(prefix), { recursive: true, force: true });
  }

  async ensurePrefix(prefix: string): Promise<void> {
    await mkdir(this.pathOf(prefix), { recursive: true });
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const dir = this.pathOf(prefix);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    const listed = await Promise.all(
      entries
        .filter((entry) => entry.isFile())
        .map(async (entry) => {
          const path = join(entry.parentPath, entry.name);
          const stats = await stat(path).catch(() => undefined);
          const key = [prefix, ...relative(dir, path).split(sep)].join('/');
          return stats && { key, size: stats.size, modifiedAt: stats.mtime };
        }),
    );
    return listed.filter((entry) => entry !== undefined);
  }

  assembly(key: string): Assembly {
    return new LocalAssembly(key, {
      pathOf: (k) => this.pathOf(k),
      openFile: (path, flags, start) => this.openFile(path, flags, start),
      stat: () => this.stat(key),
      readHead: (length) => this.readHead(key, length),
    });
  }

  tusDataStore(options: TusDataStoreOptions): DataStore {
    return new LocalTusStore({
      directory: this.pathOf('tus'),
      configstore: options.configstore,
      expirationPeriodInMilliseconds: options.expiryMs,
    });
  }

  protected override probeFailure(error: unknown): string {
    return `upload folder not writable (${(error as NodeJS.ErrnoException).code})`;
  }

  toolInput(key: string): Promise<string> {
    return Promise.resolve().then(() => this.pathOf(key));
  }

  /** The file of a key; every segment is checked (storage-key.ts, then safe-path.ts against the root). */
  private pathOf(key: string): string {
    return safeJoin(this.root, ...keySegments(key));
  }

  private openFile(path: string, flags: 'wx' | 'a' | 'r+', start?: number): WriteStream {
    return createWriteStream(path, { flags, start, highWaterMark: HIGH_WATER_MARK });
  }
}

/** What an assembly needs of its driver: key checking and the one way files are opened for writing. */
interface LocalFiles {
  pathOf(key: string): string;
  openFile(path: string, flags: 'a' | 'r+', start?: number): WriteStream;
  stat(): Promise<ObjectStat | undefined>;
  readHead(length: number): Promise<Buffer>;
}

/** An assembly is one file: appends with `a`, tus writes with `r+` at their offset, truncate cuts it back. */
class LocalAssembly implements Assembly {
  private readonly path: string;

  constructor(
    readonly key: string,
    private readonly files: LocalFiles,
  ) {
    this.path = files.pathOf(key);
  }

  async truncate(length: number): Promise<void> {
    await truncate(this.path, length).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT' || length !== 0) throw error;
      await (await open(this.path, 'a')).close();
    });
  }

  async appendObject(sourceKey: string): Promise<void> {
    await pipeline(
      createReadStream(this.files.pathOf(sourceKey), { highWaterMark: HIGH_WATER_MARK }),
      this.files.openFile(this.path, 'a'),
    );
  }

  async append(bytes: Buffer): Promise<void> {
    await pipeline(Readable.from([bytes]), this.files.openFile(this.path, 'a'));
  }

  openWriteAt(offset: number): Writable {
    return this.files.openFile(this.path, 'r+', offset);
  }

  async seal(length: number): Promise<void> {
    await this.truncate(length);
  }

  async length(): Promise<number | undefined> {
    return (await this.files.stat())?.size;
  }

  readHead(length: number): Promise<Buffer> {
    return this.files.readHead(length);
  }
}

/** @tus/file-store, reporting where an upload lives as its key, not its file path. */
class LocalTusStore extends FileStore {
  override async create(upload: Upload): Promise<Upload> {
    return withKey(await super.create(upload));
  }

  override async getUpload(id: string): Promise<Upload> {
    return withKey(await super.getUpload(id));
  }
}

function withKey(upload: Upload): Upload {
  upload.storage = { type: 'file', path: `tus/${upload.id}` };
  return upload;
}
