import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import mongoose, { Connection } from 'mongoose';
import { REDIS_PREFIX, RunningRedis, startEmbeddedRedis } from '../../src/coordination';
import { ChildApp } from '../support/child-app';
import { mediaFixtures } from '../support/fixtures';
import { childProcesses } from '../support/processes';
import { storedKeys } from '../support/stored-objects';
import { testDatabaseUri } from '../support/test-app';
import { registerUser } from '../support/users';
import { waitFor } from '../media/support/stored-state';
import { FfmpegGate, storedMedia, uploadFile, waitForProcessing } from './queue-support';

const STEP_MS = 120_000;

/**
 * A child API process is killed with SIGKILL while a video's processing job runs (its ffmpeg held at a gate), and
 * a new process is started over the same database, upload folder (and Redis): the job is run again to the end.
 */
describe.each([
  ['in process (the startup re-queue finds the `running` record)', false],
  ['BullMQ (the dead worker’s lock expires and the job is taken over)', true],
])('kill -9 during processing, %s', (_mode, withRedis) => {
  let work: string;
  let gate: FfmpegGate;
  let redis: RunningRedis | undefined;
  let app: ChildApp;
  let db: Connection;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'processing-restart-'));
    gate = await FfmpegGate.create(work);
    redis = withRedis ? await startEmbeddedRedis() : undefined;
    app = await ChildApp.create('processing-restart', {
      FFMPEG_PATH: gate.path,
      ...(redis ? { REDIS_URL: redis.url, PROCESSING_LOCK_MS: '3000' } : {}),
    });
    db = await mongoose.createConnection(testDatabaseUri(), { dbName: app.dbName }).asPromise();
  }, STEP_MS);
  afterAll(async () => {
    await gate?.open();
    await db?.close();
    await app?.dispose();
    await redis?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(
    'the record stays `running` through the crash and ends `done` with its derived files after the restart',
    async () => {
      const { mp4 } = await mediaFixtures();
      await gate.close();
      await app.start();
      const user = await registerUser(app.url, 'restart');
      expect((await uploadFile(app.url, user, 'restart-video-1', mp4, 'video')).status).toBe(201);
      await waitForProcessing(db, 'restart-video-1', 'running');
      const pid = app.pid!;
      // The job is really in its tool: the gated ffmpeg is (about to be) a child of the API process.
      await waitFor(
        () => Promise.resolve(childProcesses(pid).some((child) => child.comm === 'gated-ffmpeg.sh')),
        'the job’s ffmpeg',
      );

      await app.crash();
      expect((await storedMedia(db, 'restart-video-1'))?.processing).toMatchObject({
        status: 'running',
        attempts: 1,
      });

      await gate.open();
      await app.start();
      const record = await waitForProcessing(db, 'restart-video-1', 'done', 60_000);
      expect(record.processing).toMatchObject({ status: 'done', attempts: 2 });
      expect(record.processing?.error).toBeUndefined();
      const prefix = `derived/${user.id}/restart-video-1/`;
      expect(record.derived?.poster?.key).toBe(`${prefix}poster.jpg`);
      const keys = Object.values(record.derived ?? {}).map((file) => file.key);
      expect(await storedKeys(app, prefix)).toEqual(keys.sort());

      if (redis) {
        const queue = new Queue('processing', {
          connection: { url: redis.url },
          prefix: `${REDIS_PREFIX}bull`,
        });
        try {
          expect(await queue.getJobState(`${user.id}/restart-video-1`)).toBe('completed');
          expect(await queue.getJobCounts('failed', 'active', 'wait', 'delayed')).toEqual({
            failed: 0,
            active: 0,
            wait: 0,
            delayed: 0,
          });
        } finally {
          await queue.close();
        }
      }
    },
    STEP_MS * 2,
  );
});
