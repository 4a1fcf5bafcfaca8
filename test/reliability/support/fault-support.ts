import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageDriver } from '../../../src/storage';
import type { TestApp } from '../../support/test-app';

/** Open file descriptors of this process (the app under test runs in it). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** What each open descriptor points at (for failure messages). */
export function fdTargets(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '?';
    }
  });
}

/**
 * Sockets this process holds to `port` on 127.0.0.1 (IPv4): the S3 client's keep-alive pool, which grows with the
 * concurrency it sees up to the SDK's maxSockets and is reused, so it is counted apart from what must stay flat.
 */
export function socketsTo(port: number): number {
  const own = new Set(fdTargets().map((target) => /^socket:\[(\d+)\]$/.exec(target)?.[1]));
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((row) => row.trim().split(/\s+/))
    .filter((cols) => cols.length > 9 && parseInt(cols[2].split(':')[1], 16) === port && own.has(cols[9]))
    .length;
}

/** Records of any kind still marked as in flight. */
export async function stuckRecords(t: TestApp): Promise<number> {
  const [uploads, progress, sessions] = await Promise.all([
    t.connection.collection('media_uploads').countDocuments({ status: 'uploading' }),
    t.connection.collection('upload_progress').countDocuments({ status: 'uploading' }),
    t.connection.collection('chunk_sessions').countDocuments({ status: 'uploading' }),
  ]);
  return uploads + progress + sessions;
}

/** The in-flight records, for failure messages. */
export async function describeStuck(t: TestApp): Promise<string> {
  const pick = ['uploadId', 'status', 'source', 'fileId', 'bytesUploaded', 'totalBytes'];
  const rows = [];
  for (const name of ['media_uploads', 'upload_progress', 'chunk_sessions']) {
    for (const doc of await t.connection.collection(name).find({ status: 'uploading' }).toArray()) {
      rows.push(
        `${name}: ${JSON.stringify(Object.fromEntries(pick.filter((k) => k in doc).map((k) => [k, doc[k]])))}`,
      );
    }
  }
  return rows.join('\n');
}

/** Waits until no record is in flight; the failure lists the ones still stuck. */
export async function waitForNoStuckRecords(t: TestApp, timeoutMs?: number): Promise<void> {
  await eventually(async () => (await stuckRecords(t)) === 0, 'no record left uploading', timeoutMs).catch(
    async (error: Error) => {
      throw new Error(`${error.message}:\n${await describeStuck(t)}`);
    },
  );
}

/** Polls until `probe` is true; throws after `timeoutMs`. */
export async function eventually(probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Makes the storage driver's next write stream of an upload (a new object, or a write at an offset) behave like a
 * disk that fills up after `okBytes`: the bytes before are written for real, then every write fails with ENOSPC.
 * Returns the storage key it was opened at. The files that processing derives in the background from earlier
 * uploads (`derived/…`) are written normally: the fault is for the request under test.
 */
export function failDiskAfter(t: TestApp, okBytes: number): { key: () => string } {
  const driver = t.app.get(StorageDriver);
  const openWrite = driver.openWrite.bind(driver);
  const assembly = driver.assembly.bind(driver);
  let opened = '';
  const failOnce = (key: string, file: Writable): Writable => {
    if (opened || key.startsWith('derived/')) return file;
    opened = key;
    spies.forEach((spy) => spy.mockRestore());
    return fillingDisk(file, okBytes);
  };
  const spies = [
    jest.spyOn(driver, 'openWrite').mockImplementation((key) => failOnce(key, openWrite(key))),
    jest.spyOn(driver, 'assembly').mockImplementation((key) => {
      const real = assembly(key);
      const openWriteAt = real.openWriteAt.bind(real);
      real.openWriteAt = (offset) => failOnce(key, openWriteAt(offset));
      return real;
    }),
  ];
  return { key: () => opened };
}

/** A stream that writes the first `okBytes` to `file`, then fails every write with ENOSPC. */
export function fillingDisk(file: Writable, okBytes: number): Writable {
  let written = 0;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (written + chunk.length > okBytes) {
        return callback(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
      }
      written += chunk.length;
      file.write(chunk, callback);
    },
    destroy(error, callback) {
      file.destroy();
      if (file.closed) callback(error);
      else file.once('close', () => callback(error));
    },
  });
}
