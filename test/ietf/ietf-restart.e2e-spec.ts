import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChildApp } from '../support/child-app';
import { largeMp4Like } from '../support/fixtures';
import { registerUser } from '../support/users';
import { idOf, ietfRequest, sha256 } from './support/ietf-client';

const MiB = 1024 * 1024;

// Local disk only, like test/chunk/tus-restart: it watches the file grow mid-PATCH before the kill -9.
describe('IETF resumable uploads across a crash of the server', () => {
  let app: ChildApp;

  beforeAll(async () => {
    app = await ChildApp.create('ietf-restart');
  });

  afterAll(() => app.dispose());

  it('kill -9 in the middle of a PATCH: after a restart HEAD gives the stored offset and a PATCH finishes it', async () => {
    const video = await readFile(await largeMp4Like(app.workDir, 3 * MiB + 5));
    await app.start();
    const user = await registerUser(app.url, 'crash');
    const created = await ietfRequest(app.url, {
      method: 'POST',
      url: '/api/uploads',
      headers: {
        ...user.auth,
        'Upload-Complete': '?0',
        'X-File-Type': 'video',
        'Upload-Length': String(video.length),
      },
    });
    expect(created.status).toBe(201);
    const id = idOf(created.headers.location);
    const dataFile = join(app.uploadDir, 'ietf', id);

    // The PATCH trickles in (64 KiB every 20 ms, at most ~1 s) and the server dies while it runs.
    const trickle = Readable.from(
      (async function* () {
        for (let at = 0; at < video.length; at += 64 * 1024) {
          await sleep(20);
          yield video.subarray(at, at + 64 * 1024);
        }
      })(),
    );
    const running = ietfRequest(app.url, {
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: {
        ...user.auth,
        'Content-Type': 'application/partial-upload',
        'Upload-Offset': '0',
        'Upload-Complete': '?1',
      },
      body: trickle,
    });
    const deadline = Date.now() + 20_000;
    while ((await stat(dataFile)).size < 512 * 1024 && Date.now() < deadline) await sleep(25);
    await app.crash();
    trickle.destroy();
    expect((await running).status).toBe(0);
    const persisted = (await stat(dataFile)).size;
    expect(persisted).toBeGreaterThanOrEqual(512 * 1024);
    expect(persisted).toBeLessThan(video.length);

    await app.start();
    const head = await ietfRequest(app.url, {
      method: 'HEAD',
      url: `/api/uploads/${id}`,
      headers: user.auth,
    });
    expect(head.status).toBe(204);
    expect(head.headers['upload-complete']).toBe('?0');
    expect(head.headers['upload-length']).toBe(String(video.length));
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBe(persisted);

    const done = await ietfRequest(app.url, {
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: {
        ...user.auth,
        'Content-Type': 'application/partial-upload',
        'Upload-Offset': String(offset),
        'Upload-Complete': '?1',
      },
      body: video.subarray(offset),
    });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ uploadId: id, checksumSha256: sha256(video), fileSize: video.length });
    const stored = await readFile(join(app.uploadDir, 'media', user.id, `${id}.mp4`));
    expect(sha256(stored)).toBe(sha256(video));
  }, 240_000);
});
