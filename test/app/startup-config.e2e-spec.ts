import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

describe('Startup with a bad configuration value', () => {
  it('exits with status 1 and one line naming the variable', () => {
    const root = resolve(__dirname, '../..');
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
