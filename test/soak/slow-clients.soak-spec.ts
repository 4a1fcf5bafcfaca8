import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { upload } from '../media/support/multipart-upload';
import { largeMp4Like } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser } from '../support/users';

const MiB = 1024 * 1024;

describe('Slow clients', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Headers within 3 s (20 s in production); everything else as shipped: no request time limit, 120 s idle.
    t = await createTestApp({ env: { HTTP_HEADERS_TIMEOUT_MS: '3000' } });
  });
  afterAll(() => t.close());

  it('a slow-loris client dribbling header bytes is cut off (after the headers timeout + Node’s 30 s check)', async () => {
    const { port } = new URL(t.url);
    const started = Date.now();
    const closedAfter = await new Promise<number>((done, fail) => {
      const socket = connect(Number(port), '127.0.0.1');
      let sent = 0;
      const header = 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ';
      const timer = setInterval(() => {
        if (socket.destroyed) return;
        socket.write(sent < header.length ? header[sent] : 'a');
        sent++;
      }, 500);
      socket.on('close', () => {
        clearInterval(timer);
        done(Date.now() - started);
      });
      socket.on('error', () => undefined);
      setTimeout(() => fail(new Error('the slow-loris connection was never closed')), 60_000);
    });
    process.stdout.write(`[soak] slow-loris connection closed after ${closedAfter} ms\n`);
    expect(closedAfter).toBeLessThan(40_000);
  }, 70_000);

  it('a legitimate 500 MB upload at ~1.6 MB/s (longer than Node’s default 300 s request timeout) succeeds', async () => {
    const user = await registerUser(t.url, 'slow');
    const size = 500 * 1000 * 1000;
    const path = await largeMp4Like(t.uploadDir, size);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const started = Date.now();
    // 256 KiB every 160 ms ≈ 1.6 MB/s ≈ 5.2 minutes for the whole file.
    const res = await upload(t.url, {
      headers: user.auth,
      parts: [
        { name: 'fileType', value: 'video' },
        { name: 'file', filename: 'big.mp4', data: { path } },
      ],
      chunkSize: 256 * 1024,
      delayMs: 160,
    });
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`[soak] 500 MB slow upload: ${res.status} after ${seconds.toFixed(0)} s\n`);
    expect(res.status).toBe(201);
    expect(seconds).toBeGreaterThan(300);
    expect(res.body.checksumSha256).toBe(hash.digest('hex'));
    const stored = await stat(join(t.uploadDir, 'media', user.id, `${res.body.uploadId}.mp4`));
    expect(stored.size).toBe(size);
    expect(size).toBeGreaterThan(400 * MiB);
  }, 900_000);
});
