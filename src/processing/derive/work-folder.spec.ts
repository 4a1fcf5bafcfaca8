import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { WorkFolder } from './work-folder';

const HOUR = 3600_000;

describe('WorkFolder.removeStale', () => {
  it('removes the work folders untouched for longer than the cutoff and keeps the recent ones', async () => {
    const stale = await WorkFolder.create();
    const live = await WorkFolder.create();
    try {
      await writeFile(stale.path('poster.jpg'), 'x');
      const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
      await utimes(stale.dir, twoHoursAgo, twoHoursAgo);

      expect(await WorkFolder.removeStale(HOUR)).toBeGreaterThanOrEqual(1);
      expect(existsSync(stale.dir)).toBe(false);
      expect(existsSync(live.dir)).toBe(true);
    } finally {
      await Promise.all([stale.remove(), live.remove()]);
    }
  });
});
