import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import request from 'supertest';
import { RunningRedis, startEmbeddedRedis } from '../../src/coordination';
import { findFreePort } from '../../src/embedded/free-port';
import { createTusUpload, OCTETS, TUS, tusCreation } from '../chunk/tus-support';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TEST_JWT_SECRET, TestApp, testDatabaseUri } from '../support/test-app';
import { registerUser } from '../support/users';

describe('Two instances on one Redis (REDIS_URL)', () => {
  let redis: RunningRedis;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await startEmbeddedRedis();
    // A small upload bucket (4, one token back every 150 s) so a shared count shows at once.
    const env = { REDIS_URL: redis.url, THROTTLE_UPLOAD_LIMIT: '4', THROTTLE_UPLOAD_REFILL: '600' };
    a = await createTestApp({ env });
    b = await createTestApp({ env, dbName: a.dbName, uploadDir: a.uploadDir });
  });
  let running = true;
  const stopBoth = async () => {
    if (!running) return;
    running = false;
    await b?.stop();
    await a?.close();
  };
  afterAll(async () => {
    await stopBoth();
    await redis?.stop();
  });

  it('the upload rate limit counts across both instances: a burst of 4 split over A and B, then 429 on either', async () => {
    const user = await registerUser(a.url, 'cluster');
    const create = (app: TestApp) =>
      tusCreation(app.url, user.auth, 10, { filename: 'p.jpg', fileType: 'photo' });
    for (const app of [a, b, a, b]) expect((await create(app)).status).toBe(201);

    for (const app of [a, b]) {
      const refused = await create(app);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ error: 'TOO_MANY_REQUESTS' });
      // The time to the next token of the shared bucket (600 s / 4), on whichever instance answers.
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(149);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(150);
    }
    // Another user has a bucket of their own.
    const other = await registerUser(b.url, 'other');
    expect((await tusCreation(b.url, other.auth, 10, { filename: 'q.jpg', fileType: 'photo' })).status).toBe(
      201,
    );
  });

  it('a token from one instance is accepted by the other (shared secret, shared database)', async () => {
    const user = await registerUser(b.url, 'roaming');
    await request(a.url).get('/api/media').set(user.auth).expect(200);
  });

  it('tus: a HEAD on B for an upload streaming into A asks A to let go of the lock, then answers the offset', async () => {
    const user = await registerUser(a.url, 'tus');
    const id = await createTusUpload(a.url, user.auth, 10_000_000);
    // Real video bytes first: the content is sniffed as soon as its head arrives.
    const first = await readFile((await mediaFixtures()).mp4);
    const patch = httpRequest(`${a.url}/api/tus/${id}`, {
      method: 'PATCH',
      headers: { ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0', 'Content-Length': '10000000' },
    });
    let patchEndedAt = 0;
    const patchEnded = new Promise<void>((done) => {
      const end = () => {
        patchEndedAt ||= Date.now();
        done();
      };
      patch.on('response', (res) => res.resume().on('end', end).on('error', end));
      patch.on('error', end);
      patch.on('close', end);
    });
    patch.write(first);
    // The PATCH holds the upload's lock on A once its first bytes are counted; it then stalls mid-body.
    await until(async () => {
      const res = await request(a.url).get(`/api/upload/progress/${id}`).set(user.auth);
      return res.status === 200 && (res.body as { bytesUploaded?: number }).bytesUploaded === first.length;
    });

    const head = await request(b.url)
      .head(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS });
    const headAt = Date.now();
    expect(head.status).toBe(200);
    // B only got the lock after A's PATCH let go of it (MemoryLockers on two instances would not wait at all).
    expect(patchEndedAt).toBeGreaterThan(0);
    expect(patchEndedAt).toBeLessThanOrEqual(headAt);
    expect(head.headers['upload-offset']).toBe(String(first.length));
    patch.destroy();
    await patchEnded;
  });

  it('stopping both instances closes every Redis connection they opened', async () => {
    const probe = new Redis(redis.url, { lazyConnect: true });
    await probe.connect();
    const ours = async () =>
      String(await probe.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => / name=media-upload/.test(line));
    expect((await ours()).length).toBeGreaterThanOrEqual(4); // a command and a subscriber connection each
    await stopBoth();
    await until(async () => (await ours()).length === 0);
    await probe.quit();
  });
});

/** Polls `condition` every 20 ms for up to 5 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await sleep(20);
  }
}

describe('Startup with REDIS_URL pointing nowhere', () => {
  it('the service stops with one line naming REDIS_URL (password hidden)', async () => {
    const port = await findFreePort();
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: resolve(__dirname, '../..'),
      env: {
        ...process.env,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(await findFreePort()),
        MONGODB_URI: testDatabaseUri(),
        MONGODB_DB: 'redis_down_never_written',
        JWT_SECRET: TEST_JWT_SECRET,
        REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));

    expect(code).not.toBe(0);
    const lines = output.split('\n').filter((line) => line.includes('REDIS_URL'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `Cannot reach Redis at redis://:***@127.0.0.1:${port} (REDIS_URL): connect ECONNREFUSED`,
    );
    expect(output).not.toContain('hunter2');
    expect(output).not.toContain('Listening on');
  }, 90_000);
});
