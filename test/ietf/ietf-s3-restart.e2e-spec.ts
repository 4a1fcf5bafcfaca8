import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import mongoose from 'mongoose';
import { EnvironmentVariables } from '../../src/config/env.schema';
import type { S3ObjectStore } from '../../src/storage/s3';
import { pieceKey } from '../../src/storage/s3/assembly-state';
import { waitFor } from '../media/support/stored-state';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from '../s3/s3-test-server';
import { objectSha256 } from '../s3/tus-s3-support';
import { ChildApp } from '../support/child-app';
import { largeMp4Like } from '../support/fixtures';
import { processingSettled } from '../support/processing';
import { s3AppEnv } from '../support/s3-app';
import { testDatabaseUri } from '../support/test-app';
import { registerUser } from '../support/users';
import { idOf, ietfRequest, PARTIAL, sha256 } from './support/ietf-client';

const MiB = 1024 * 1024;
const SIZE = 20 * MiB + 17;
/** The app's S3_PART_SIZE (the default, 8 MiB): a request body is stored as pieces of this size as they fill. */
const PART = new EnvironmentVariables().S3_PART_SIZE;
/** What the server receives before it dies: one whole piece, and half a MiB more. */
const SENT = PART + 512 * 1024;

/**
 * The iPhone case on S3: an optimistic single-request upload (the whole file in the creation request) whose server
 * is killed with SIGKILL mid-body. After the restart the client asks for the offset and sends only the rest.
 */
describe('IETF draft on S3: kill -9 mid-creation, the upload resumes from the stored pieces', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let app: ChildApp;
  let dir: string;
  let video: Buffer;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    app = await ChildApp.create('ietf-s3-restart', s3AppEnv(s3, store.bucket));
    dir = await mkdtemp(join(tmpdir(), 'ietf-s3-restart-'));
    video = await readFile(await largeMp4Like(dir, SIZE));
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await app?.dispose();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('HEAD after the restart answers the whole pieces stored, a PATCH sends the rest, SHA-256 identical, nothing else left', async () => {
    await app.start();
    const user = await registerUser(app.url, 'iphone');

    // The body's first SENT bytes, then a stall (the phone lost its signal): the server is mid-request.
    const stalled = Readable.from(
      (async function* () {
        yield video.subarray(0, SENT);
        await new Promise(() => undefined);
      })(),
    );
    const location = new Promise<string>((resolve, reject) => {
      const creation = http.request(`${app.url}/api/uploads`, {
        method: 'POST',
        headers: {
          ...user.auth,
          'Upload-Complete': '?1',
          'Upload-Draft-Interop-Version': '8',
          'Upload-Length': String(SIZE),
          'X-File-Type': 'video',
        },
      });
      creation.on('information', (info) => {
        if (info.statusCode === 104) resolve(String(info.headers.location));
      });
      creation.on('error', reject);
      stalled.pipe(creation);
    });
    const id = idOf(await location);
    await waitFor(
      async () => (await store.head(pieceKey(`ietf/${id}`, 0)))?.size === PART,
      'the first whole piece',
      30_000,
    );

    await app.crash();
    stalled.destroy();
    await app.start();

    const head = await ietfRequest(app.url, {
      method: 'HEAD',
      url: `/api/uploads/${id}`,
      headers: user.auth,
    });
    expect(head.status).toBe(204);
    expect(head.headers['upload-complete']).toBe('?0');
    expect(head.headers['upload-length']).toBe(String(SIZE));
    // The whole piece is kept; the half MiB after it died with the process.
    expect(head.headers['upload-offset']).toBe(String(PART));

    const done = await ietfRequest(app.url, {
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...user.auth, ...PARTIAL, 'Upload-Offset': String(PART), 'Upload-Complete': '?1' },
      body: video.subarray(PART),
    });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ uploadId: id, checksumSha256: sha256(video), fileSize: SIZE });

    const connection = await mongoose.createConnection(testDatabaseUri(), { dbName: app.dbName }).asPromise();
    try {
      await processingSettled({ connection });
      const record = await connection.collection('media_uploads').findOne({ uploadId: id });
      const key = String(record?.storageKey);
      expect(await objectSha256(store, key)).toBe(sha256(video));
      // The media object and the files derived from it: no piece, tail or multipart upload of the crash is left.
      const derived = Object.values((record?.derived ?? {}) as Record<string, { key: string }>).map(
        (file) => file.key,
      );
      expect((await store.list('')).map((object) => object.key).sort()).toEqual([key, ...derived].sort());
      expect(await s3.incompleteUploads(store.bucket)).toBe(0);
    } finally {
      await connection.close();
    }
  }, 180_000);
});
