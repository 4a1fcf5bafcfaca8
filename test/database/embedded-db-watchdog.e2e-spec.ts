import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildApp } from '../support/child-app';
import { childProcesses, isProcessRunning, waitForProcessExit } from '../support/processes';

describe('embedded database lifetime (e2e)', () => {
  let app: ChildApp;
  let dataDir: string;
  let ferretPid: number | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'media-upload-watchdog-db-'));
    // No MONGODB_URI: the service starts its own FerretDB, as on a developer's machine.
    app = await ChildApp.create('watchdog', { MONGODB_URI: undefined, EMBEDDED_DB_DIR: dataDir });
  });

  afterAll(async () => {
    await app.dispose();
    // Only reached when the test failed: do not leave the survivor running.
    if (ferretPid && isProcessRunning(ferretPid)) process.kill(ferretPid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('FerretDB exits when the service is killed with SIGKILL', async () => {
    await app.start();
    const servers = childProcesses(app.pid!).filter(({ comm }) => comm === 'ferretdb');
    expect(servers).toHaveLength(1);
    ferretPid = servers[0].pid;

    await app.crash();
    await waitForProcessExit(ferretPid, 10_000);
  }, 120_000);
});
