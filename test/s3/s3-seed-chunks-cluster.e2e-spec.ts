import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { RunningRedis, startEmbeddedRedis } from '../../src/coordination';
import type { S3ObjectStore } from '../../src/storage/s3';
import { ChunkReply, newFileId, postChunk, sha256, split } from '../chunk/seed-support';
import { ChildApp } from '../support/child-app';
import { largeMp4Like } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TestApp } from '../support/test-app';
import { startTwoInstances, TwoInstances } from '../support/two-instances';
import { registerUser, TestUser } from '../support/users';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;

/**
 * Seed chunks on S3 behind a balancer: one session's chunks land on different instances (one database, one Redis,
 * one bucket), so the assembly's state must live in the bucket, not in an instance's memory or disk.
 */
describe('Seed chunks on S3 across instances (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let dir: string;
  let video: Buffer;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    dir = await mkdtemp(join(tmpdir(), 's3-seed-cluster-'));
    video = await readFile(await largeMp4Like(dir, 20 * MiB + 321));
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Sends the chunks in `order` to the instance `target(i)` picks for the i-th request, the last as completed. */
  async function upload(
    pieces: Buffer[],
    order: number[],
    target: (request: number) => Promise<{ url: string; token: string }> | { url: string; token: string },
  ): Promise<ChunkReply> {
    const fileId = newFileId('s3-cluster');
    let reply: ChunkReply | undefined;
    for (const [turn, index] of order.entries()) {
      const { url, token } = await target(turn);
      const status = turn === order.length - 1 ? 'completed' : 'uploading';
      reply = await postChunk(
        url,
        token,
        { fileId, chunkIndex: index, status, totalChunks: pieces.length },
        pieces[index],
      );
      expect(reply.status).toBe(200);
    }
    return reply!;
  }

  async function expectStored(url: string, user: TestUser, done: ChunkReply): Promise<void> {
    expect(done.body.data).toMatchObject({ fileSize: video.length, checksumSha256: sha256(video) });
    const content = await request(url)
      .get(`/api/media/${done.body.data.uploadId}/content`)
      .set(user.auth)
      .buffer(true);
    expect(sha256(content.body as Buffer)).toBe(sha256(video));
    const staged = (await store.list('')).filter(
      (object) => !object.key.startsWith('media/') && !object.key.startsWith('derived/'),
    );
    expect(staged).toEqual([]);
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
  }

  describe('two instances, chunks alternating between them', () => {
    let cluster: TwoInstances;
    let user: TestUser;

    beforeAll(async () => {
      cluster = await startTwoInstances(s3AppEnv(s3, store.bucket));
      user = await registerUser(cluster.a.url, 's3-cluster');
    });
    afterAll(() => cluster?.stop());

    const alternate = (turn: number) => ({ url: (turn % 2 ? cluster.b : cluster.a).url, token: user.token });

    it('1 MiB chunks in order complete with the right SHA-256', async () => {
      const pieces = split(video, Math.ceil(video.length / MiB));
      const done = await upload(
        pieces,
        pieces.map((_, index) => index),
        alternate,
      );
      await expectStored(cluster.b.url, user, done);
    });

    it('6 MiB chunks out of order complete with the right SHA-256', async () => {
      const pieces = split(video, 4);
      const done = await upload(pieces, [2, 0, 1, 3], alternate);
      await expectStored(cluster.a.url, user, done);
    });
  });

  describe('an instance killed with SIGKILL between chunks', () => {
    let redis: RunningRedis;
    let a: ChildApp;
    let b: TestApp;
    let user: TestUser;

    beforeAll(async () => {
      redis = await startEmbeddedRedis();
      const env = { ...s3AppEnv(s3, store.bucket), REDIS_URL: redis.url };
      a = await ChildApp.create('s3-seed-a', env);
      await a.start();
      b = await createTestApp({ env, dbName: a.dbName });
      user = await registerUser(a.url, 's3-crash');
    }, S3_SETUP_TIMEOUT_MS);
    afterAll(async () => {
      await b?.close();
      await a?.dispose();
      await redis?.stop();
    });

    it('the session continues on another instance and completes with the right SHA-256', async () => {
      const pieces = split(video, Math.ceil(video.length / MiB));
      // A stores 11 chunks (8 MiB of them sent as a part), is killed, and B receives the rest.
      const done = await upload(
        pieces,
        pieces.map((_, index) => index),
        async (turn) => {
          if (turn === 11) {
            expect(await s3.incompleteUploads(store.bucket)).toBe(1);
            await a.crash();
          }
          return { url: turn < 11 ? a.url : b.url, token: user.token };
        },
      );
      await expectStored(b.url, user, done);
    });
  });
});
