import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { largeMp4Like } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { startUpload } from './support/multipart-upload';
import { mediaRecord, progressRecord, tmpFiles, waitFor } from './support/stored-state';

const QUOTA = 200_000;
const FILE = 4 * 1024 * 1024;

describe('POST /api/upload/media against USER_QUOTA_BYTES', () => {
  let t: TestApp;
  let alice: TestUser;
  let work: string;
  let clip: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { USER_QUOTA_BYTES: String(QUOTA) } });
    alice = await registerUser(t.url, 'alice');
    work = await mkdtemp(join(tmpdir(), 'media-quota-'));
    clip = await largeMp4Like(work, FILE);
  });
  afterAll(async () => {
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  it('counts an undeclared body as it arrives and stops writing at the quota: 413 mid-stream, partial file deleted', async () => {
    const running = startUpload(t.url, {
      chunked: true,
      parts: [
        { name: 'fileType', value: 'video' },
        { name: 'file', filename: 'clip.mp4', data: { path: clip } },
      ],
      headers: { ...alice.auth, 'X-Upload-Id': 'quota-stream-1' },
      chunkSize: 16 * 1024,
      delayMs: 2,
    });
    const result = await running.result;
    // Answered long before the whole body was sent: the write stopped at the quota, not at the end.
    expect(running.fileBytesSent()).toBeLessThan(FILE / 2);
    if (result.error === undefined) {
      expect(result.status).toBe(413);
      expect(result.body).toMatchObject({ error: 'QUOTA_EXCEEDED', limitBytes: QUOTA, usedBytes: 0 });
    }
    const record = await waitFor(async () => {
      const found = await mediaRecord(t, 'quota-stream-1');
      return found?.status === 'failed' ? found : null;
    }, 'the record to fail');
    expect(record.failureReason).toContain('QUOTA_EXCEEDED');
    expect(await progressRecord(t, 'quota-stream-1')).toMatchObject({ status: 'failed' });
    expect(await tmpFiles(t)).toEqual([]);
  });
});
