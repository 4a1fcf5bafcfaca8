import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mediaFixtures } from '../support/fixtures';
import { storedKeys } from '../support/stored-objects';
import { createTestApp, TEST_JWT_SECRET, TestApp, testDatabaseUri, uniqueDbName } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { multipart } from './probe-support';

describe('When ffprobe itself misbehaves', () => {
  let scratch: string;
  let tool: string;
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'probe-tool-'));
    tool = join(scratch, 'ffprobe');
    // Answers the startup check like ffprobe, then hangs on every file.
    await writeFile(tool, '#!/bin/sh\n[ "$1" = "-version" ] && exec ffprobe -version\nexec sleep 30\n', {
      mode: 0o755,
    });
    t = await createTestApp({ env: { FFPROBE_PATH: tool, PROBE_TIMEOUT_MS: '500' } });
    user = await registerUser(t.url, 'probetool');
  });
  afterAll(async () => {
    await t.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('refuses a video the probe cannot read within PROBE_TIMEOUT_MS with 415', async () => {
    const sent = await multipart(t, user, (await mediaFixtures()).mp4, 'video');
    expect(sent.status).toBe(415);
    expect(sent.errorText).toContain('could not be read within 500 ms');
    expect((await storedKeys(t)).filter((key) => key.includes(sent.uploadId))).toEqual([]);
  });

  it('answers a 5xx, not a refusal, when ffprobe cannot be started any more', async () => {
    await rm(tool);
    const sent = await multipart(t, user, (await mediaFixtures()).mp4, 'video');
    expect(sent.status).toBeGreaterThanOrEqual(500);
    expect(sent.errorText).not.toContain('UNSUPPORTED_MEDIA_TYPE');
    expect(
      await t.connection.collection('media_uploads').findOne({ uploadId: sent.uploadId }),
    ).not.toMatchObject({
      status: 'completed',
    });
  });
});

describe('Startup without ffprobe', () => {
  it('exits with status 1 and one line naming FFPROBE_PATH and the ffmpeg package', async () => {
    const uploadDir = await mkdtemp(join(tmpdir(), 'probe-startup-'));
    try {
      const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: resolve(__dirname, '../..'),
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          HOST: '127.0.0.1',
          PORT: '0',
          MONGODB_URI: testDatabaseUri(),
          MONGODB_DB: uniqueDbName(),
          JWT_SECRET: TEST_JWT_SECRET,
          UPLOAD_DIR: uploadDir,
          MIN_FREE_DISK_BYTES: '0',
          LOG_LEVEL: 'silent',
          FFPROBE_PATH: '/nonexistent/ffprobe',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/FFPROBE_PATH \(\/nonexistent\/ffprobe\) cannot be run.*ffmpeg package/),
      ]);
    } finally {
      await rm(uploadDir, { recursive: true, force: true });
    }
  });
});
