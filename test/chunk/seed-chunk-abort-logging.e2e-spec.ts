import { Logger } from 'nestjs-pino';
import { watchOpenWrites } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { newFileId, postChunk, waitFor } from './seed-support';

describe('Seed chunk API: client aborts are not server errors', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it.each(['fields-first', 'file-first'] as const)(
    'logs an aborted chunk at info without a stack, never at error (%s)',
    async (order) => {
      const logger = t.app.get(Logger);
      const errors = jest.spyOn(logger, 'error');
      const infos = jest.spyOn(logger, 'log');
      const fileId = newFileId();
      // The session exists, so a fields-first chunk streams into it.
      const first = await postChunk(
        t.url,
        user.token,
        { fileId, chunkIndex: 0, status: 'uploading' },
        Buffer.alloc(16, 1),
      );
      expect(first.status).toBe(200);
      const aborts = 5;
      const writes = watchOpenWrites(t);
      const streaming = () => writes.keys().some((key) => /incoming-|chunk-/.test(key));
      for (let i = 0; i < aborts; i += 1) {
        // The last abort's file is gone first, so the file awaited below is this request's, mid-body.
        await waitFor(() => !streaming());
        const controller = new AbortController();
        const sent = postChunk(
          t.url,
          user.token,
          { fileId, chunkIndex: 1, status: 'uploading' },
          Buffer.alloc(64 * 1024, 2),
          { order, pieceBytes: 1024, delayMs: 20, signal: controller.signal },
        ).catch((error: Error) => error);
        await waitFor(streaming);
        controller.abort();
        await sent;
      }
      await waitFor(
        () => infos.mock.calls.filter((call) => /abort/i.test(JSON.stringify(call))).length >= aborts,
      );
      expect(errors).not.toHaveBeenCalled();
      const aborted = infos.mock.calls.filter((call) => /abort/i.test(JSON.stringify(call)));
      expect(aborted).toHaveLength(aborts);
      for (const call of aborted) expect(JSON.stringify(call)).not.toMatch(/"stack"|\n\s+at /);
      await waitFor(() => !streaming());
    },
  );
});
