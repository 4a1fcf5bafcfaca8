import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { postChunk } from '../chunk/seed-support';
import { tusCreation } from '../chunk/tus-support';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser } from '../support/users';

describe('Rate limits are token buckets: bursts pass, floods are slowed to the refill rate', () => {
  let t: TestApp;

  beforeAll(async () => {
    // '' = unset: the shipped upload limits; a tiny chunk bucket so its limit shows quickly.
    t = await createTestApp({
      env: { THROTTLE_UPLOAD_LIMIT: '', THROTTLE_CHUNK_LIMIT: '3', THROTTLE_CHUNK_REFILL: '600' },
    });
  });
  afterAll(() => t.close());

  it('a user starts 200 tus uploads in a row (a 200-photo batch); then one more every 3 s, not 11 refused for a minute', async () => {
    const user = await registerUser(t.url, 'batch');
    const create = () => tusCreation(t.url, user.auth, 10, { filename: 'p.jpg', fileType: 'photo' });
    // Tokens refill while the batch runs (one per 3 s), so the first refusal comes a little after 200.
    const started = Date.now();
    let created = 0;
    let refused: request.Response | undefined;
    while (!refused && created < 260) {
      const res = await create();
      if (res.status === 201) created++;
      else refused = res;
    }
    const refilled = Math.ceil((Date.now() - started) / 3000);
    expect(created).toBeGreaterThanOrEqual(200);
    expect(created).toBeLessThanOrEqual(200 + refilled);
    expect(refused?.status).toBe(429);
    expect(refused!.body).toMatchObject({ error: 'TOO_MANY_REQUESTS', retryAfter: expect.any(Number) });
    const retryAfter = Number(refused!.headers['retry-after']);
    expect(retryAfter).toBe(refused!.body.retryAfter);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);

    // Waiting as told is enough: a refill token is there.
    await sleep(retryAfter * 1000);
    expect((await create()).status).toBe(201);
  });

  it('seed chunks have a per-user bucket of their own: past it 429, and nothing is stored', async () => {
    const user = await registerUser(t.url, 'recorder');
    const other = await registerUser(t.url, 'neighbour');
    const chunk = (who: typeof user, index: number) =>
      postChunk(
        t.url,
        who.token,
        { fileId: 'rec-1', chunkIndex: index, status: 'uploading' },
        Buffer.alloc(64, 1),
      );
    for (let i = 0; i < 3; i++) expect((await chunk(user, i)).status).toBe(200);
    const refused = await chunk(user, 3);
    expect(refused.status).toBe(429);
    // One token per 200 s, counted from the first chunk: the wait is what is left of those 200 s.
    expect(refused.body).toMatchObject({ error: 'TOO_MANY_REQUESTS', retryAfter: expect.any(Number) });
    expect(refused.body.retryAfter).toBeGreaterThan(190);
    expect(refused.body.retryAfter).toBeLessThanOrEqual(200);
    const status = await request(t.url).get('/api/video/status/rec-1').set(user.auth).expect(200);
    expect(status.body.data).toMatchObject({ receivedChunks: [0, 1, 2], fileSize: 192 });
    expect((await chunk(other, 0)).status).toBe(200);
  });
});
