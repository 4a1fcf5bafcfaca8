import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressTracker } from '../../../src/progress';
import { storedKeys } from '../../support/stored-objects';
import type { TestApp } from '../../support/test-app';

/** Objects in `tmp/` (in-flight single-request uploads), by name; on S3 also their unfinished multipart uploads. */
export async function tmpFiles(t: TestApp): Promise<string[]> {
  return (await storedKeys(t, 'tmp/')).map((key) => key.slice('tmp/'.length));
}

/** Objects in `media/<userId>/`, by name; empty when there are none. */
export async function mediaFiles(t: TestApp, userId: string): Promise<string[]> {
  const prefix = `media/${userId}/`;
  return (await storedKeys(t, prefix)).map((key) => key.slice(prefix.length));
}

/**
 * Waits until the server is storing `uploadId`'s bytes. Local: its partial file exists. S3: a small upload's first
 * part is held in memory until it fills (S3_PART_SIZE), so nothing is in the bucket yet: the app's live progress
 * counts bytes instead.
 */
export async function waitForPartial(t: TestApp, uploadId: string): Promise<void> {
  if (t.storage === 's3') {
    const live = async () => {
      const record = await mediaRecord(t, uploadId);
      return record ? t.app.get(ProgressTracker).get(String(record.userId), uploadId) : undefined;
    };
    await waitFor(async () => ((await live())?.bytesUploaded ?? 0) > 0, 'bytes to arrive');
    return;
  }
  await waitFor(
    async () => (await tmpFiles(t)).some((name) => name.endsWith(`.${uploadId}.part`)),
    'the partial file',
  );
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
