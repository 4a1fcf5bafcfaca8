import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import mongoose from 'mongoose';
import request from 'supertest';
import { ChildApp } from '../support/child-app';
import { largeMp4Like } from '../support/fixtures';
import { testDatabaseUri } from '../support/test-app';
import { registerUser } from '../support/users';
import { createTusUpload, OCTETS, runTusClient, sha256File, TUS } from './tus-support';

const MiB = 1024 * 1024;

describe('tus across a crash of the server', () => {
  let app: ChildApp;
  let uploadDir: string;
  let workDir: string;
  let dbName: string;

  beforeAll(async () => {
    app = await ChildApp.create('tus-restart');
    ({ uploadDir, workDir, dbName } = app);
  });

  afterAll(() => app.dispose());

  it('kill -9 in the middle of a PATCH: after a restart HEAD gives the stored offset and tus-js-client finishes with identical bytes', async () => {
    const video = await largeMp4Like(workDir, 4 * MiB + 17);
    await app.start();
    const user = await registerUser(app.url, 'crash');
    const id = await createTusUpload(app.url, user.auth, 4 * MiB + 17);
    const dataFile = join(uploadDir, 'tus', id);

    // The first MiB arrives whole.
    const first = createReadStream(video, { end: MiB - 1 });
    await new Promise<void>((done, fail) => {
      const req = http.request(`${app.url}/api/tus/${id}`, {
        method: 'PATCH',
        headers: { ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0', 'Content-Length': String(MiB) },
      });
      req.on('response', (res) => (res.statusCode === 204 ? done() : fail(new Error(`${res.statusCode}`))));
      req.on('error', fail);
      first.pipe(req);
    });

    // The second PATCH trickles in (64 KiB every 20 ms) and the server dies while it is running.
    const trickle = Readable.from(
      (async function* () {
        for await (const chunk of createReadStream(video, { start: MiB, highWaterMark: 64 * 1024 })) {
          await sleep(20);
          yield chunk as Buffer;
        }
      })(),
    );
    const req = http.request(`${app.url}/api/tus/${id}`, {
      method: 'PATCH',
      headers: { ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(MiB) },
    });
    req.on('error', () => undefined); // the server is about to vanish
    trickle.pipe(req);
    const deadline = Date.now() + 20_000;
    while ((await stat(dataFile)).size < MiB + 256 * 1024 && Date.now() < deadline) await sleep(50);
    await app.crash();
    trickle.destroy();

    const persisted = (await stat(dataFile)).size;
    expect(persisted).toBeGreaterThan(MiB);
    expect(persisted).toBeLessThan(4 * MiB);

    await app.start();
    const head = await request(app.url)
      .head(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS })
      .expect(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(MiB);
    expect(offset).toBeLessThanOrEqual(persisted);
    expect(head.headers['upload-length']).toBe(String(4 * MiB + 17));

    await runTusClient({
      file: createReadStream(video),
      uploadUrl: `${app.url}/api/tus/${id}`,
      endpoint: `${app.url}/api/tus`,
      headers: user.auth,
      chunkSize: MiB,
      retryDelays: [0, 500],
    });

    const expected = await sha256File(video);
    const media = await request(app.url).get(`/api/upload/progress/${id}`).set(user.auth).expect(200);
    expect(media.body).toMatchObject({ status: 'completed', bytesUploaded: 4 * MiB + 17 });
    const connection = await mongoose.createConnection(testDatabaseUri(), { dbName }).asPromise();
    try {
      const record = await connection.collection('media_uploads').findOne({ uploadId: id });
      expect(record).toMatchObject({ status: 'completed', checksumSha256: expected, fileSize: 4 * MiB + 17 });
      expect(await sha256File(join(uploadDir, String(record?.storageKey)))).toBe(expected);
      expect(await connection.collection('tus_uploads').findOne({ uploadId: id })).toMatchObject({
        size: 4 * MiB + 17,
      });
    } finally {
      await connection.close();
    }
  }, 240_000);
});
