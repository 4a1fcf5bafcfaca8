import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import mongoose from 'mongoose';
import request from 'supertest';
import { postChunk, split } from '../chunk/seed-support';
import { largeMp4Like } from '../support/fixtures';
import { readStored } from '../support/stored-objects';
import { testDatabaseUri } from '../support/test-app';
import { registerUser } from '../support/users';
import { ChildApp } from '../support/child-app';

const MiB = 1024 * 1024;

// The tus twin of this test (kill -9 mid-PATCH, resume with tus-js-client) is test/chunk/tus-restart.e2e-spec.ts.
describe('Seed chunk upload across a kill -9 of the server', () => {
  let app: ChildApp;
  let workDir: string;
  let dbName: string;

  beforeAll(async () => {
    app = await ChildApp.create('crash-chunk');
    ({ workDir, dbName } = app);
  });

  afterAll(() => app.dispose());

  it('kill -9 while a chunk streams: after a restart the status says where to resume, and the result is byte-identical', async () => {
    const video = await readFile(await largeMp4Like(workDir, 3 * MiB + 5));
    const pieces = split(video, 3);
    await app.start();
    const user = await registerUser(app.url, 'crash');
    const fileId = 'crash-recording';
    const first = await postChunk(
      app.url,
      user.token,
      { fileId, chunkIndex: 0, status: 'uploading', totalChunks: 3 },
      pieces[0],
    );
    expect(first.status).toBe(200);

    // Chunk 1 trickles in (64 KiB every 100 ms, ~1.6 s); the server dies while it streams.
    const controller = new AbortController();
    const streaming = postChunk(
      app.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      pieces[1],
      { pieceBytes: 64 * 1024, delayMs: 100, signal: controller.signal },
    ).catch(() => undefined);
    await new Promise((done) => setTimeout(done, 600));
    await app.crash();
    controller.abort();
    await streaming;

    await app.start();
    const status = await request(app.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body.data).toMatchObject({ exists: true, receivedChunks: [0], nextChunkIndex: 1 });

    const second = await postChunk(
      app.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      pieces[1],
    );
    expect(second.status).toBe(200);
    const last = await postChunk(
      app.url,
      user.token,
      { fileId, chunkIndex: 2, status: 'completed' },
      pieces[2],
    );
    expect(last.status).toBe(200);

    const expected = createHash('sha256').update(video).digest('hex');
    const connection = await mongoose.createConnection(testDatabaseUri(), { dbName }).asPromise();
    try {
      const record = await connection
        .collection('media_uploads')
        .findOne({ uploadId: last.body.data.uploadId });
      expect(record).toMatchObject({ status: 'completed', checksumSha256: expected, fileSize: video.length });
      const stored = await readStored(app, String(record?.storageKey));
      expect(createHash('sha256').update(stored).digest('hex')).toBe(expected);
    } finally {
      await connection.close();
    }
  }, 240_000);
});
