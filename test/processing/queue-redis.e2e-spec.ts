import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { REDIS_PREFIX } from '../../src/coordination';
import { ProcessingQueue } from '../../src/processing';
import { waitFor } from '../media/support/stored-state';
import { mediaFixtures, MediaFixtures } from '../support/fixtures';
import { startTwoInstances, TwoInstances } from '../support/two-instances';
import { registerUser, TestUser } from '../support/users';
import { FfmpegGate, followProcessing, storedMedia, uploadFile, waitForProcessing } from './queue-support';

/** BullMQ (REDIS_URL): two instances on one database, upload folder and Redis, a worker on each. */
describe('Processing jobs on BullMQ across two instances', () => {
  let both: TwoInstances;
  let alice: TestUser;
  let work: string;
  let gate: FfmpegGate;
  let fixtures: MediaFixtures;
  let queue: Queue;

  const jobId = (uploadId: string) => `${alice.id}/${uploadId}`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'processing-redis-'));
    gate = await FfmpegGate.create(work);
    fixtures = await mediaFixtures();
    both = await startTwoInstances({
      FFMPEG_PATH: gate.path,
      PROGRESS_PERSIST_MS: '100',
      PROGRESS_EVENT_MS: '20',
    });
    alice = await registerUser(both.a.url, 'alice');
    queue = new Queue('processing', { connection: { url: both.redis.url }, prefix: `${REDIS_PREFIX}bull` });
  });
  afterAll(async () => {
    await gate?.open();
    await queue?.close();
    await both?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('uploads made on either instance are each processed once; queued again, a finished job does no work twice', async () => {
    const ids = ['redis-photo-1', 'redis-photo-2', 'redis-photo-3', 'redis-photo-4'];
    const results = await Promise.all(
      ids.map((id, i) => uploadFile(i % 2 ? both.b.url : both.a.url, alice, id, fixtures.jpeg, 'photo')),
    );
    expect(results.map((res) => res.status)).toEqual([201, 201, 201, 201]);
    for (const id of ids) {
      const record = await waitForProcessing(both.a.connection, id, 'done');
      expect(record.processing).toMatchObject({ status: 'done', attempts: 1 });
      expect(record.derived?.thumbnailSmall?.key).toBe(`derived/${alice.id}/${id}/thumbnail-small.webp`);
      // The worker marks its job completed just after the runner has recorded `done`.
      await waitFor(async () => (await queue.getJobState(jobId(id))) === 'completed', `job ${id} completed`);
    }

    // Both instances queue the first one again (as their startup re-queue would): it runs once more and skips.
    const job = { userId: alice.id, uploadId: ids[0] };
    await Promise.all([
      both.a.app.get(ProcessingQueue).enqueue(job),
      both.b.app.get(ProcessingQueue).enqueue(job),
    ]);
    await waitFor(
      async () => (await queue.getJob(jobId(ids[0])))?.returnvalue === 'skipped',
      'the repeated job',
    );
    expect((await storedMedia(both.a.connection, ids[0]))?.processing).toMatchObject({
      status: 'done',
      attempts: 1,
    });
  });

  it('a running job queued again from both instances stays one job; SSE on the other instance follows it to done', async () => {
    await gate.close();
    expect((await uploadFile(both.a.url, alice, 'redis-video-1', fixtures.mp4, 'video')).status).toBe(201);
    await waitForProcessing(both.a.connection, 'redis-video-1', 'running');
    const job = { userId: alice.id, uploadId: 'redis-video-1' };
    await Promise.all([
      both.a.app.get(ProcessingQueue).enqueue(job),
      both.b.app.get(ProcessingQueue).enqueue(job),
    ]);
    expect(await queue.getJobCounts('active', 'wait', 'delayed')).toEqual({ active: 1, wait: 0, delayed: 0 });

    const progress = await request(both.b.url)
      .get('/api/upload/progress/redis-video-1')
      .set(alice.auth)
      .expect(200);
    expect(progress.body).toMatchObject({ status: 'completed', processing: { status: 'running' } });
    const ticket = await request(both.b.url)
      .post('/api/upload/progress/redis-video-1/events/ticket')
      .set(alice.auth)
      .expect(201);
    const { events, statuses: seen } = await followProcessing(`${both.b.url}${ticket.body.eventsUrl}`, gate);
    expect(seen).toEqual(['running', 'done']);
    expect(events[events.length - 1]).toEqual({ event: 'end', data: { status: 'completed' } });

    const record = await waitForProcessing(both.a.connection, 'redis-video-1', 'done');
    expect(record.processing).toMatchObject({ status: 'done', attempts: 1 });
    expect(record.derived?.poster?.key).toBe(`derived/${alice.id}/redis-video-1/poster.jpg`);
  });
});
