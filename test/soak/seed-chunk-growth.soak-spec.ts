import {
  expectAllReceived,
  MAX_DB_BYTES_PER_CHUNK,
  median,
  sendTinyChunks,
} from '../chunk/seed-growth-support';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';

/** The most one session may take (MAX_CHUNKS_PER_SESSION): about 3 minutes one at a time. */
const CHUNKS = 10_000;
const DEADLINE_MS = 600_000;

describe(`Seed chunk API: ${CHUNKS} one-byte chunks in one session`, () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { THROTTLE_CHUNK_LIMIT: '1000000' } });
    user = await registerUser(t.url);
  });
  afterAll(() => t.close());

  it('keeps the per-chunk time flat and the database growth linear and small', async () => {
    const run = await sendTinyChunks(t, user, CHUNKS, DEADLINE_MS);
    expect(run.times).toHaveLength(CHUNKS - 1);
    expect(median(run.times.slice(-500)) / median(run.times.slice(100, 600))).toBeLessThan(2.5);
    await expectAllReceived(t, user, run.fileId, CHUNKS);
    if (run.dbGrowth !== undefined) expect(run.dbGrowth).toBeLessThan(CHUNKS * MAX_DB_BYTES_PER_CHUNK);
  });
});
