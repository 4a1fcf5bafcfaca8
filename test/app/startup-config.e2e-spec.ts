import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { findFreePort } from '../../src/embedded/free-port';
import { TEST_JWT_SECRET, testDatabaseUri, uniqueDbName } from '../support/test-app';

const root = resolve(__dirname, '../..');

describe('Startup with a bad configuration value', () => {
  it('exits with status 1 and one line naming the variable', () => {
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, PORT: 'not-a-port', MONGODB_URI: 'mongodb://127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringContaining('Invalid configuration: PORT')]);
  });
});

describe('Startup of the service as it ships (src/main.ts)', () => {
  it('logs no route-syntax warning, and still logs every request', async () => {
    const port = await findFreePort();
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        MONGODB_URI: testDatabaseUri(),
        MONGODB_DB: uniqueDbName(),
        JWT_SECRET: TEST_JWT_SECRET,
        MIN_FREE_DISK_BYTES: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('Listening on')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not start:\n${output}`);
        await sleep(100);
      }
      await request(`http://127.0.0.1:${port}`).get('/api/health').expect(200);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
    expect(output).not.toMatch(/LegacyRouteConverter|Unsupported route path/);
    expect(output).toContain('"path":"/api/health"');
  });
});
