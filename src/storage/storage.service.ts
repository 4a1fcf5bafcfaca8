import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createReadStream, createWriteStream, ReadStream, WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AppConfig } from '../config';
import { safeJoin } from './safe-path';

/** The four areas of the upload root (see ARCHITECTURE.md, "Storage layout"). */
export type StorageArea = 'tmp' | 'chunks' | 'tus' | 'media';
const AREAS: StorageArea[] = ['tmp', 'chunks', 'tus', 'media'];

/** 1 MiB write buffers: far fewer syscalls than the 16 KiB default when a fast client streams a large file. */
const WRITE_HIGH_WATER_MARK = 1024 * 1024;

/**
 * The only code that touches upload bytes. Local disk today; an S3-compatible driver would implement the same
 * surface. In-flight and finished files share one filesystem, so finishing an upload is an atomic rename.
 */
@Injectable()
export class StorageService implements OnModuleInit {
  readonly root: string;

  constructor(config: ConfigService<AppConfig, true>) {
    this.root = config.get('storage', { infer: true }).uploadDir;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(AREAS.map((area) => mkdir(safeJoin(this.root, area), { recursive: true })));
  }

  /** Absolute path of `segments` inside an area; every segment is checked (see safe-path.ts). */
  path(area: StorageArea, ...segments: string[]): string {
    return safeJoin(this.root, area, ...segments);
  }

  /** The storage key (relative path) of a finished file: `media/<userId>/<uploadId>.<ext>`. */
  mediaKey(userId: string, uploadId: string, ext: string): string {
    safeJoin(this.root, 'media', userId, `${uploadId}.${ext}`);
    return `media/${userId}/${uploadId}.${ext}`;
  }

  /** Absolute path of a storage key produced by `mediaKey`. */
  pathOfKey(key: string): string {
    return safeJoin(this.root, ...key.split('/'));
  }

  /**
   * A file for writing: `wx` (the default) creates a new one and refuses to overwrite, so two uploads can never
   * share a file; `a` appends; `r+` writes into an existing file from `start` (a tus PATCH at its offset).
   */
  createWriteStream(path: string, flags: 'wx' | 'a' | 'r+' = 'wx', start?: number): WriteStream {
    return createWriteStream(path, { flags, start, highWaterMark: WRITE_HIGH_WATER_MARK });
  }

  createReadStream(key: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.pathOfKey(key), { ...range, highWaterMark: WRITE_HIGH_WATER_MARK });
  }

  /** Appends the whole of `source` to `target` (chunk assembly). */
  async append(source: string, target: string): Promise<void> {
    await pipeline(
      createReadStream(source, { highWaterMark: WRITE_HIGH_WATER_MARK }),
      this.createWriteStream(target, 'a'),
    );
  }

  /** Moves a finished file into `media/` by atomic rename; returns its absolute path. */
  async promote(from: string, key: string): Promise<string> {
    const target = this.pathOfKey(key);
    await mkdir(dirname(target), { recursive: true });
    await rename(from, target);
    return target;
  }

  /** Renames a file inside the upload root (same filesystem, so atomic), replacing `to` if it exists. */
  async move(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  /** Cuts a file back to `length` bytes (drops an append that was never committed); a missing file is created. */
  async truncate(path: string, length: number): Promise<void> {
    await truncate(path, length).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT' || length !== 0) throw error;
      await (await open(path, 'a')).close();
    });
  }

  async ensureDir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  /** Reads the first `length` bytes of a file (type sniffing), without reading the rest. */
  async readHead(path: string, length: number): Promise<Buffer> {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async size(path: string): Promise<number | undefined> {
    return stat(path).then(
      (stats) => stats.size,
      () => undefined,
    );
  }

  async statKey(key: string) {
    return stat(this.pathOfKey(key));
  }

  /** Deletes a file or folder; a missing one is not an error (cleanup paths run more than once). */
  async remove(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  async removeKey(key: string): Promise<void> {
    await this.remove(this.pathOfKey(key));
  }

  /** The top-level entries of an area with their last modification, e.g. for the sweeper's stray-file cleanup. */
  async listArea(
    area: StorageArea,
  ): Promise<Array<{ name: string; path: string; isFile: boolean; modifiedAt: Date }>> {
    const root = safeJoin(this.root, area);
    const names = await readdir(root).catch(() => [] as string[]);
    const entries = await Promise.all(
      names.map(async (name) => {
        const path = join(root, name);
        const stats = await stat(path).catch(() => undefined);
        return stats && { name, path, isFile: stats.isFile(), modifiedAt: stats.mtime };
      }),
    );
    return entries.filter((entry) => entry !== undefined);
  }
}
