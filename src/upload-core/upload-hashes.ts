import { createHash, Hash } from 'node:crypto';

interface RunningHash {
  hash: Hash;
  /** Bytes the hash has seen, which is the data file's size when it is still in step. */
  offset: number;
}

/**
 * SHA-256 of each resumable upload (tus, the IETF draft), computed while its bytes arrive, so finishing an upload does not read the file
 * again. Only in memory: after a restart, or when a write failed half-way, the hash is out of step with the
 * file and the finisher falls back to hashing the stored file.
 */
export class UploadHashes {
  private readonly running = new Map<string, RunningHash>();

  /** The hash to feed with bytes written at `offset`, if it is in step with the file; else none. */
  resume(id: string, offset: number): { hash: Hash; rollback: Hash } | undefined {
    let entry = this.running.get(id);
    if (!entry && offset === 0) {
      entry = { hash: createHash('sha256'), offset: 0 };
      this.running.set(id, entry);
    }
    if (!entry || entry.offset !== offset) {
      this.running.delete(id);
      return undefined;
    }
    // The copy lets a rejected chunk (checksum mismatch, truncated) be taken back out of the hash.
    return { hash: entry.hash, rollback: entry.hash.copy() };
  }

  /** The bytes fed since `resume` reached the file: the hash is in step at `offset`. */
  commit(id: string, offset: number): void {
    const entry = this.running.get(id);
    if (entry) entry.offset = offset;
  }

  /** The chunk was truncated away again: restore the hash to what it was before. */
  rollback(id: string, hash: Hash): void {
    const entry = this.running.get(id);
    if (entry) entry.hash = hash;
  }

  /** The digest, if the hash covers exactly `size` bytes; forgets the upload either way. */
  take(id: string, size: number): string | undefined {
    const entry = this.running.get(id);
    this.running.delete(id);
    return entry && entry.offset === size ? entry.hash.digest('hex') : undefined;
  }

  forget(id: string): void {
    this.running.delete(id);
  }
}
