import { createHash } from 'node:crypto';
// The tools' scratch files (a decoded HEIC, a poster, a remux, an S3 original copied for sharp), never kept: the
// stored originals and derived files still go only through the StorageDriver.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import { createReadStream, createWriteStream } from 'node:fs';
// eslint-disable-next-line @typescript-eslint/no-restricted-imports
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { StorageDriver } from '../../storage';
import type { DerivedFile } from '../processing-state';

/** Folder names start with this, so a leftover one (a killed process) is recognisable in os.tmpdir(). */
export const WORK_FOLDER_PREFIX = 'media-derive-';

/**
 * A private temp folder (mode 0700, from mkdtemp) where one job's tools write their files before they are stored:
 * the tools want seekable files, and nothing half-made reaches the storage. Remove it in `finally`.
 */
export class WorkFolder {
  private constructor(readonly dir: string) {}

  static async create(): Promise<WorkFolder> {
    return new WorkFolder(await mkdtemp(join(tmpdir(), WORK_FOLDER_PREFIX)));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The names of the files the tools wrote (heif-convert numbers its outputs when a file holds several images). */
  async files(): Promise<string[]> {
    return (await readdir(this.dir)).sort();
  }

  /** Whether a tool really wrote `name` (ffmpeg can exit 0 and write nothing when no frame was decoded). */
  async has(name: string): Promise<boolean> {
    const stats = await stat(this.path(name)).catch(() => undefined);
    return (stats?.size ?? 0) > 0;
  }

  /** Copies a stored object here (S3: sharp and heif-convert read files, not URLs). */
  async download(storage: StorageDriver, key: string, name: string, signal: AbortSignal): Promise<string> {
    const path = this.path(name);
    await pipeline(storage.openRead(key), createWriteStream(path, { flags: 'wx' }), { signal });
    return path;
  }

  /**
   * Streams `name` into storage at `key` (which must not exist), hashing it on the way: its size and a quoted
   * SHA-256 as the ETag. A failed write may leave part of the object: the caller removes the derived prefix.
   */
  async store(
    storage: StorageDriver,
    name: string,
    target: { key: string; mimeType: string; width?: number; height?: number },
    signal: AbortSignal,
  ): Promise<DerivedFile> {
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      createReadStream(this.path(name)),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      storage.openWrite(target.key),
      { signal },
    );
    return { ...target, size, etag: `"${hash.digest('hex')}"` };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Removes the work folders a killed process left (kill -9 skips every `finally`) that were last written more
   * than `olderThanMs` ago: past twice the job time limit no live job on this machine can still own one.
   * Answers how many went.
   */
  static async removeStale(olderThanMs: number): Promise<number> {
    const root = tmpdir();
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await readdir(root).catch(() => [])) {
      if (!name.startsWith(WORK_FOLDER_PREFIX)) continue;
      const folder = join(root, name);
      const stats = await stat(folder).catch(() => undefined);
      if (!stats?.isDirectory() || stats.mtimeMs > cutoff) continue;
      await rm(folder, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
