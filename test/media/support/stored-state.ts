import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestApp } from '../../support/test-app';

/** Files in `<uploadDir>/tmp/` (in-flight single-request uploads). */
export function tmpFiles(t: TestApp): Promise<string[]> {
  return readdir(join(t.uploadDir, 'tmp'));
}

/** Files in `<uploadDir>/media/<userId>/`; empty when the folder does not exist. */
export async function mediaFiles(t: TestApp, userId: string): Promise<string[]> {
  return readdir(join(t.uploadDir, 'media', userId)).catch(() => []);
}

export function mediaRecord(t: TestApp, uploadId: string) {
  return t.connection.collection('media_uploads').findOne({ uploadId });
}

export function progressRecord(t: TestApp, uploadId: string) {
  return t.connection.collection('upload_progress').findOne({ uploadId });
}

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
