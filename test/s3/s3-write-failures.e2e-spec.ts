import { Readable, Transform } from 'node:stream';
import { S3ObjectStore, StorageUnavailableError } from '../../src/storage/s3';
import { patternStream, S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;

/** Passes bytes through and, once `after` bytes went by, runs `then` (awaited before more bytes pass). */
function tripAfter(after: number, then: (stream: Transform) => Promise<void> | void): Transform {
  let seen = 0;
  let tripped = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (tripped || seen < after) return done(null, chunk);
      tripped = true;
      Promise.resolve(then(this)).then(
        () => done(null, chunk),
        (error: Error) => done(error),
      );
    },
  });
}

/** A 64 MiB source that trips after 20 MiB: by then the multipart upload exists and parts are in S3. */
function sourceTripping(then: (stream: Transform) => Promise<void> | void): Readable {
  return patternStream(64 * MiB).pipe(tripAfter(20 * MiB, then));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('S3ObjectStore write failures leave nothing behind (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(() => s3?.stop());

  async function expectNothingLeft(key: string): Promise<void> {
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
    expect(await store.head(key)).toBeNull();
  }

  it('an AbortSignal mid-stream rejects with its reason and aborts the multipart upload', async () => {
    const controller = new AbortController();
    const reason = new Error('upload cancelled');
    let inProgress = 0;
    const source = sourceTripping(async () => {
      inProgress = (await store.listIncompleteUploads('media/')).length;
      controller.abort(reason);
    });

    await expect(store.write('media/u1/aborted.bin', source, { signal: controller.signal })).rejects.toBe(
      reason,
    );
    expect(inProgress).toBe(1);
    await expectNothingLeft('media/u1/aborted.bin');
    expect(source.destroyed).toBe(false);
  });

  it('a failing source rejects with the source error and aborts the multipart upload', async () => {
    let inProgress = 0;
    const source = sourceTripping(async (stream) => {
      inProgress = (await store.listIncompleteUploads('media/')).length;
      stream.destroy(new Error('client went away'));
    });

    await expect(store.write('media/u1/failed.bin', source)).rejects.toThrow('client went away');
    expect(inProgress).toBe(1);
    await expectNothingLeft('media/u1/failed.bin');
  });

  it('a source that closes before its end counts as failed', async () => {
    const source = sourceTripping((stream) => void stream.destroy());
    await expect(store.write('media/u1/closed.bin', source)).rejects.toThrow(/premature close/i);
    await expectNothingLeft('media/u1/closed.bin');
  });

  it('an already aborted signal writes nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(
      store.write('media/u1/late.bin', Readable.from([Buffer.from('x')]), { signal: controller.signal }),
    ).rejects.toThrow('too late');
    await expectNothingLeft('media/u1/late.bin');
  });

  it('the S3 server dying mid-write gives STORAGE_UNAVAILABLE, and after its restart nothing is half-written', async () => {
    const source = sourceTripping(() => s3.server.kill());

    const failure = await store.write('media/u1/crash.bin', source).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageUnavailableError);
    expect((failure as StorageUnavailableError).getStatus()).toBe(503);
    expect((failure as StorageUnavailableError).getResponse()).toMatchObject({
      error: 'STORAGE_UNAVAILABLE',
    });
    // The abort could not reach S3: it waits for the server to come back.
    expect(store.pendingCleanups).toBe(1);

    await s3.restart();
    await waitFor(async () => (await store.retryCleanups()) === 0, 20_000);
    await expectNothingLeft('media/u1/crash.bin');
    // And the store works again on the restarted server.
    await expect(store.write('media/u1/after.bin', patternStream(1024))).resolves.toMatchObject({
      size: 1024,
    });
  }, 60_000);
});
