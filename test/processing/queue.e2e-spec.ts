import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ProcessingQueue } from '../../src/processing';
import { readEvents } from '../progress/sse-client';
import { waitFor } from '../media/support/stored-state';
import { mediaFixtures, MediaFixtures } from '../support/fixtures';
import { storedKeys } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { FfmpegGate, followProcessing, storedMedia, uploadFile, waitForProcessing } from './queue-support';

/** The in-process queue (no REDIS_URL): one instance, jobs in memory, PROCESSING_CONCURRENCY = 1. */
describe('Processing jobs in process: runner, progress and SSE', () => {
  let t: TestApp;
  let alice: TestUser;
  let work: string;
  let gate: FfmpegGate;
  let fixtures: MediaFixtures;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'processing-queue-'));
    gate = await FfmpegGate.create(work);
    fixtures = await mediaFixtures();
    t = await createTestApp({
      env: { FFMPEG_PATH: gate.path, PROGRESS_PERSIST_MS: '100', PROGRESS_EVENT_MS: '20' },
    });
    alice = await registerUser(t.url, 'alice');
  });
  afterAll(async () => {
    await gate?.open();
    await t?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const progressOf = (id: string) => request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth);

  it('a completed photo is processed in the background: done after one attempt, its derived files stored and on the record', async () => {
    const res = await uploadFile(t.url, alice, 'queue-photo-1', fixtures.jpeg, 'photo');
    expect(res.status).toBe(201);

    const record = await waitForProcessing(t.connection, 'queue-photo-1', 'done');
    expect(record.processing).toMatchObject({ status: 'done', attempts: 1 });
    expect(record.processing?.error).toBeUndefined();
    const prefix = `derived/${alice.id}/queue-photo-1/`;
    expect(record.derived?.thumbnailSmall).toMatchObject({
      key: `${prefix}thumbnail-small.webp`,
      mimeType: 'image/webp',
    });
    const keys = Object.values(record.derived ?? {}).map((file) => file.key);
    expect(await storedKeys(t, prefix)).toEqual(keys.sort());

    const progress = await progressOf('queue-photo-1').expect(200);
    expect(progress.body).toMatchObject({ status: 'completed', processing: { status: 'done' } });
    const media = await request(t.url).get('/api/media/queue-photo-1').set(alice.auth).expect(200);
    expect(media.body.media.processing).toMatchObject({ status: 'done' });
  });

  it('a video waits for the busy worker (pending), runs, then is done: GET progress and SSE follow it, SSE ends after done', async () => {
    await gate.close();
    // The first video holds the only worker slot (its ffmpeg waits at the gate): the second one stays pending.
    expect((await uploadFile(t.url, alice, 'queue-busy-1', fixtures.mp4, 'video')).status).toBe(201);
    await waitForProcessing(t.connection, 'queue-busy-1', 'running');
    expect((await uploadFile(t.url, alice, 'queue-video-2', fixtures.mp4, 'video')).status).toBe(201);

    const pending = await progressOf('queue-video-2').expect(200);
    expect(pending.body).toMatchObject({
      status: 'completed',
      percentComplete: 100,
      processing: { status: 'pending' },
    });
    expect((await storedMedia(t.connection, 'queue-video-2'))?.processing).toMatchObject({
      status: 'pending',
      attempts: 0,
    });

    const ticket = await request(t.url)
      .post('/api/upload/progress/queue-video-2/events/ticket')
      .set(alice.auth);
    expect(ticket.status).toBe(201);
    const { events, statuses: seen } = await followProcessing(`${t.url}${ticket.body.eventsUrl}`, gate);
    expect(seen[0]).toBe('pending');
    expect(seen).toContain('running');
    expect(seen[seen.length - 1]).toBe('done');
    // Each change once: repeated polls of an unchanged view are not sent again.
    expect(seen.filter((status, i) => status === seen[i - 1])).toEqual([]);
    expect(events[events.length - 1]).toEqual({ event: 'end', data: { status: 'completed' } });

    const record = await waitForProcessing(t.connection, 'queue-video-2', 'done');
    expect(record.processing?.attempts).toBe(1);
    expect(record.derived?.poster?.key).toBe(`derived/${alice.id}/queue-video-2/poster.jpg`);
    expect((await waitForProcessing(t.connection, 'queue-busy-1', 'done')).processing?.attempts).toBe(1);
  });

  it('a video deleted while its job runs leaves no derived files behind', async () => {
    await gate.close();
    expect((await uploadFile(t.url, alice, 'queue-deleted-1', fixtures.mp4, 'video')).status).toBe(201);
    await waitForProcessing(t.connection, 'queue-deleted-1', 'running');
    await request(t.url).delete('/api/media/queue-deleted-1').set(alice.auth).expect(200);
    await gate.open();
    // One worker: a photo queued after the video is done only once the video's job is over.
    expect((await uploadFile(t.url, alice, 'queue-after-delete', fixtures.jpeg, 'photo')).status).toBe(201);
    await waitForProcessing(t.connection, 'queue-after-delete', 'done');
    expect(await storedMedia(t.connection, 'queue-deleted-1')).toBeNull();
    expect(await storedKeys(t, `derived/${alice.id}/queue-deleted-1/`)).toEqual([]);
  });

  it('SSE on an upload whose processing is over sends its final view and ends at once', async () => {
    await waitForProcessing(t.connection, 'queue-photo-1', 'done');
    const ticket = await request(t.url)
      .post('/api/upload/progress/queue-photo-1/events/ticket')
      .set(alice.auth);
    const events = await readEvents(`${t.url}${ticket.body.eventsUrl}`, () => undefined, 10_000);
    expect(events.map((event) => event.event)).toEqual(['progress', 'end']);
    expect(events[0].data).toMatchObject({ status: 'completed', processing: { status: 'done' } });
  });
});

/** PROCESSING_ATTEMPTS = 2 and an ffmpeg that always fails: the video's poster frame cannot be made. */
describe('Processing jobs in process: a failing job', () => {
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        FFMPEG_PATH: '/bin/false',
        PROCESSING_ATTEMPTS: '2',
        PROCESSING_RETRY_DELAY_MS: '200',
        PROGRESS_PERSIST_MS: '100',
      },
    });
    alice = await registerUser(t.url, 'alice');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is retried after a backoff, then failed with its error on the media and progress views; nothing derived is left', async () => {
    const { mp4 } = await mediaFixtures();
    expect((await uploadFile(t.url, alice, 'queue-failing-1', mp4, 'video')).status).toBe(201);

    // The first failure is recorded as a pending retry, with its error, for the backoff's length.
    const retrying = await waitFor(async () => {
      const found = await storedMedia(t.connection, 'queue-failing-1');
      return found?.processing?.status === 'pending' && found.processing.attempts === 1 ? found : null;
    }, 'the first failure');
    expect(retrying.processing?.error).toMatch(/poster frame/);
    const record = await waitForProcessing(t.connection, 'queue-failing-1', 'failed');
    expect(record.processing).toMatchObject({ status: 'failed', attempts: 2 });
    expect(record.processing?.error).toBe(retrying.processing?.error);
    expect(record.derived).toBeUndefined();
    expect(await storedKeys(t, `derived/${alice.id}/`)).toEqual([]);

    const media = await request(t.url).get('/api/media/queue-failing-1').set(alice.auth).expect(200);
    expect(media.body.media.processing).toMatchObject({ status: 'failed', error: record.processing?.error });
    const progress = await request(t.url)
      .get('/api/upload/progress/queue-failing-1')
      .set(alice.auth)
      .expect(200);
    expect(progress.body).toMatchObject({
      status: 'completed',
      processing: { status: 'failed', error: record.processing?.error },
    });
    // Queued again (a restart would do so only for pending or running ones): no third attempt. A photo queued
    // after it on the single worker is done only once the failed job's turn is over.
    const queue = t.app.get(ProcessingQueue);
    await queue.enqueue({ userId: alice.id, uploadId: 'queue-failing-1' });
    expect(
      (await uploadFile(t.url, alice, 'queue-after-1', (await mediaFixtures()).jpeg, 'photo')).status,
    ).toBe(201);
    await waitForProcessing(t.connection, 'queue-after-1', 'done');
    expect((await storedMedia(t.connection, 'queue-failing-1'))?.processing).toMatchObject({
      status: 'failed',
      attempts: 2,
    });
  });

  it('POST /api/media/:id/reprocess runs a failed job again from its first attempt (409 while it runs, 404 for others) and remakes a done one', async () => {
    const failed = await waitForProcessing(t.connection, 'queue-failing-1', 'failed');
    const bob = await registerUser(t.url, 'bob');
    await request(t.url).post('/api/media/queue-failing-1/reprocess').set(bob.auth).expect(404);

    const again = await request(t.url)
      .post('/api/media/queue-failing-1/reprocess')
      .set(alice.auth)
      .expect(202);
    expect(again.body.media.processing).toEqual({ status: 'pending' });
    // Its first attempt fails at once and waits out the backoff as `pending`: a second request is refused meanwhile.
    const busy = await request(t.url)
      .post('/api/media/queue-failing-1/reprocess')
      .set(alice.auth)
      .expect(409);
    expect(busy.body).toMatchObject({ error: 'PROCESSING_IN_PROGRESS' });
    const refailed = await waitForProcessing(t.connection, 'queue-failing-1', 'failed');
    expect(refailed.processing).toMatchObject({ status: 'failed', attempts: 2 });
    expect(refailed.processing!.updatedAt.getTime()).toBeGreaterThan(failed.processing!.updatedAt.getTime());

    const photo = await waitForProcessing(t.connection, 'queue-after-1', 'done');
    await request(t.url).post('/api/media/queue-after-1/reprocess').set(alice.auth).expect(202);
    const remade = await waitFor(async () => {
      const found = await storedMedia(t.connection, 'queue-after-1');
      const at = found?.processing?.updatedAt.getTime() ?? 0;
      return found?.processing?.status === 'done' && at > photo.processing!.updatedAt.getTime()
        ? found
        : null;
    }, 'the photo processed again');
    expect(remade.processing).toMatchObject({ status: 'done', attempts: 1 });
    const thumbnail = await request(t.url)
      .get('/api/media/queue-after-1/thumbnail')
      .set(alice.auth)
      .expect(200);
    expect(thumbnail.headers['content-type']).toBe('image/webp');
  });
});
