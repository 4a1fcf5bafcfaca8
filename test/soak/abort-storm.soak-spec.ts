import { startUpload, upload, videoParts } from '../media/support/multipart-upload';
import { filesUnder } from '../security/support/attack-support';
import { eventually, fdTargets, openFds, waitForNoStuckRecords } from '../reliability/support/fault-support';
import { largeMp4Like } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';

const ABORTS = 1000;
// 5 at a time, like the regular suite. See docs/security.md for what this finds on the embedded FerretDB.
const PARALLEL = 5;
// A retained request or live upload of even a few KiB would show as megabytes here.
const MAX_HEAP_GROWTH_MIB = 16;

/** Live heap after a full collection; the soak script runs node with --expose-gc. */
async function liveHeapMiB(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the soak through `npm run test:soak` (node --expose-gc)');
  gc();
  await new Promise((settle) => setImmediate(settle));
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe(`${ABORTS} clients aborting at 50 %`, () => {
  let t: TestApp;
  let user: TestUser;
  let video: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100' } });
    user = await registerUser(t.url, 'storm');
    video = await largeMp4Like(t.uploadDir, 1024 * 1024);
  });
  afterAll(() => t.close());

  const poolSockets = () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's pool stats are not typed
    const servers = (t.connection.getClient() as any).topology?.s?.servers as Map<string, any> | undefined;
    return [...(servers?.values() ?? [])].reduce(
      (sum, server) => sum + (server.pool?.totalConnectionCount ?? 0),
      0,
    );
  };
  const ownFds = () => openFds() - poolSockets();
  const files = () =>
    fdTargets()
      .filter((target) => target.startsWith('/'))
      .sort();
  const abortOne = async () => {
    const running = startUpload(t.url, {
      headers: user.auth,
      parts: videoParts(video),
      pauseAt: 512 * 1024,
    });
    await running.paused;
    running.abort();
    await running.result;
  };
  const settled = async () => {
    await waitForNoStuckRecords(t, 30_000);
    await eventually(
      async () =>
        (await filesUnder(t.uploadDir)).every(
          (file) => file.startsWith('large-') || file.startsWith('media/'),
        ),
      'no partial file',
      30_000,
    );
  };

  it('leaves no orphaned file, no stuck record, and flat counts of open descriptors and live heap', async () => {
    for (let i = 0; i < PARALLEL; i++) await abortOne();
    await settled();
    const before = { fds: ownFds(), files: files(), heap: await liveHeapMiB() };
    const samples: number[] = [];
    for (let done = 0; done < ABORTS; done += PARALLEL) {
      await Promise.all(Array.from({ length: PARALLEL }, abortOne));
      if (done % 100 === 0) samples.push(ownFds());
    }
    await settled();
    let after = ownFds();
    await eventually(() => (after = ownFds()) <= before.fds + 2, 'a flat descriptor count', 30_000);
    expect(files()).toEqual(before.files);
    const heapGrowthMiB = (await liveHeapMiB()) - before.heap;
    process.stdout.write(
      `[soak] ${ABORTS} aborts: own fds ${before.fds} → ${after} (samples ${samples.join(',')}), ` +
        `db pool ${poolSockets()}, live heap ${heapGrowthMiB >= 0 ? '+' : ''}${heapGrowthMiB.toFixed(1)} MiB\n`,
    );
    expect(heapGrowthMiB).toBeLessThan(MAX_HEAP_GROWTH_MIB);
    const ok = await upload(t.url, {
      headers: user.auth,
      parts: videoParts(video),
    });
    expect(ok.status).toBe(201);
  });
});
