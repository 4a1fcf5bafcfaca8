import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { createTusUpload, OCTETS, sha256File, TUS } from '../chunk/tus-support';
import { largeMp4Like } from '../support/fixtures';
import { startTwoInstances, TwoInstances } from '../support/two-instances';
import { registerUser } from '../support/users';
import { storedSha256 } from '../support/stored-objects';

/** 16 KiB every 25 ms (~640 KiB/s): 4 MiB take ~6.5 s, well past @tus/server's 3 s lockDrainTimeout. */
const PIECE = 16 * 1024;
const PACE_MS = 25;
const SIZE = 4 * 1024 * 1024 + 77;

interface PatchReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Bytes this client had handed to its socket when the answer came. */
  sent: number;
  /** From sending the headers to the answer. */
  elapsedMs: number;
}

/** A raw PATCH streaming `bytes` slowly; it stops sending once the server answers (as a tus client does). */
function slowPatch(
  url: string,
  auth: Record<string, string>,
  offset: number,
  bytes: Buffer,
): Promise<PatchReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'PATCH',
      headers: {
        ...auth,
        ...TUS,
        ...OCTETS,
        'Upload-Offset': String(offset),
        'Content-Length': bytes.length,
      },
    });
    const startedAt = Date.now();
    let answered = false;
    let sent = 0;
    let elapsedMs = 0;
    const answer = new Promise<void>((done) =>
      req.on('response', (res) => {
        answered = true;
        elapsedMs = Date.now() - startedAt;
        done();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => (body += text));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sent, elapsedMs });
        });
      }),
    );
    req.on('error', (error) => {
      // Which PATCH lost its answer, and how far it got, is what tells a lost answer from a refused request.
      const after = `${Date.now() - startedAt} ms, ${sent} bytes sent`;
      if (!answered)
        reject(new Error(`PATCH to ${url} failed without an answer after ${after}: ${error.message}`));
    });
    void (async () => {
      while (!answered && sent < bytes.length) {
        const piece = bytes.subarray(sent, sent + PIECE);
        sent += piece.length;
        // A waiting request's body is not read: wait for room or the answer, whichever comes first.
        if (!req.write(piece)) await Promise.race([new Promise((done) => req.once('drain', done)), answer]);
        else await sleep(PACE_MS);
      }
      if (!answered) req.end();
    })();
  });
}

describe('tus: two PATCHes of one upload at one offset, on two instances (one DB, one Redis, one UPLOAD_DIR)', () => {
  let cluster: TwoInstances;
  let work: string;

  beforeAll(async () => {
    cluster = await startTwoInstances({ THROTTLE_CHUNK_LIMIT: '1000000', THROTTLE_UPLOAD_LIMIT: '1000000' });
    work = await mkdtemp(join(tmpdir(), 'tus-race-'));
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the lock holder is asked to release, commits what it got and answers 204; the other gets 409; the upload completes intact', async () => {
    const { a, b } = cluster;
    const user = await registerUser(a.url, 'race');
    const sourcePath = await largeMp4Like(work, SIZE);
    const source = await readFile(sourcePath);
    const id = await createTusUpload(a.url, user.auth, SIZE);

    const [onA, onB] = await Promise.all(
      [a, b].map((app) => slowPatch(`${app.url}/api/tus/${id}`, user.auth, 0, source)),
    );

    // The first PATCH to take the lock is the winner; the other's lock request makes the winner end its body
    // after lockDrainTimeout, so neither sends the whole file.
    const replies = [onA, onB];
    expect(replies.map((r) => r.status).sort()).toEqual([204, 409]);
    const winner = replies.find((r) => r.status === 204) as PatchReply;
    const loser = replies.find((r) => r.status === 409) as PatchReply;
    const committed = Number(winner.headers['upload-offset']);
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(SIZE);
    expect(committed).toBeLessThanOrEqual(winner.sent);
    expect(winner.headers.connection).toBe('close'); // cut off mid-body, so the connection cannot be reused
    expect(JSON.parse(loser.body)).toMatchObject({ statusCode: 409, error: 'UPLOAD_OFFSET_CONFLICT' });
    // The loser waited for the lock: the winner let go only after the 3 s drain its release request started.
    expect(loser.elapsedMs).toBeGreaterThanOrEqual(2_900);

    // Both instances see exactly the winner's bytes.
    for (const app of [a, b]) {
      const head = await request(app.url)
        .head(`/api/tus/${id}`)
        .set({ ...user.auth, ...TUS })
        .expect(200);
      expect(head.headers['upload-offset']).toBe(String(committed));
    }

    // The rest, in two PATCHes on alternating instances.
    const middle = committed + Math.floor((SIZE - committed) / 2);
    for (const [app, from, to] of [
      [b, committed, middle],
      [a, middle, SIZE],
    ] as const) {
      const res = await request(app.url)
        .patch(`/api/tus/${id}`)
        .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(from) })
        .send(source.subarray(from, to))
        .expect(204);
      expect(res.headers['upload-offset']).toBe(String(to));
    }

    const expected = createHash('sha256').update(source).digest('hex');
    const record = await a.connection.collection('media_uploads').findOne({ uploadId: id });
    expect(record).toMatchObject({
      status: 'completed',
      source: 'tus',
      fileSize: SIZE,
      checksumSha256: expected,
    });
    expect(await storedSha256(a, String(record?.storageKey))).toBe(expected);
    expect(await sha256File(sourcePath)).toBe(expected);
  }, 60_000);
});
