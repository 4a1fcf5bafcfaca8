import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createApiClient, multipart, type Schemas } from '../../client';
import { FfmpegGate } from '../processing/queue-support';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { buildDemo, launchChromium, openDemo, screenshot, signUp } from './browser-support';

jest.setTimeout(120_000);

describe('demo page library grid in Chromium: thumbnails, duration badges, the viewer', () => {
  let testApp: TestApp;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let page: Page | undefined;
  let scratch: string;
  /** Holds the video's processing (its first step is an ffmpeg run) so the page shows it as processing. */
  let gate: FfmpegGate;

  beforeAll(async () => {
    await buildDemo();
    scratch = await mkdtemp(join(tmpdir(), 'media-grid-e2e-'));
    gate = await FfmpegGate.create(scratch);
    testApp = await createTestApp({ env: { FFMPEG_PATH: gate.path } });
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    if (page) {
      await screenshot(page, 'media-grid');
      await page.context().close();
    }
    await closeBrowser?.();
    await gate?.open();
    await testApp?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('shows processing, then thumbnails of a video and a HEIC photo, a duration badge, and plays the video seekably with a poster', async () => {
    ({ page } = await openDemo(browser, testApp.url));
    const token = await signUp(page, `grid_${randomBytes(4).toString('hex')}`);
    const api = createApiClient({ baseUrl: testApp.url, token: () => token });
    const fixtures = await mediaFixtures();
    const send = async (path: string, fileType: string, name: string) => {
      const form = new FormData();
      form.append('fileType', fileType);
      form.append('file', await openAsBlob(path), name);
      const { data } = await api.POST('/api/upload/media', multipart<Schemas['MediaUploadBodyDto']>(form));
      return data!.uploadId;
    };
    // A phone's MP4 with its index at the end: the viewer plays the server's faststart rendition.
    await gate.close();
    const video = await send(fixtures.mp4MoovAtEnd, 'video', 'Beach.mp4');
    const photo = await send(fixtures.heic, 'photo', 'IMG_0001.HEIC');
    await page.getByRole('button', { name: 'Refresh' }).click();

    // The video is still being processed: its tile says so, then polls and shows its thumbnail by itself.
    const tile = page.locator(`#media-list li[data-upload-id="${video}"]`);
    await expect(tile.locator('.placeholder').textContent()).resolves.toBe('processing…');
    await expect(tile.getAttribute('data-processing')).resolves.toMatch(/^(pending|running)$/);
    await gate.open();
    for (const id of [video, photo]) {
      const thumb = page.locator(`#media-list li[data-upload-id="${id}"] img.thumb`);
      await thumb.waitFor({ timeout: 60_000 });
      await page.waitForFunction(
        (img) => img !== null && img.complete && img.naturalWidth > 0,
        await thumb.elementHandle(),
      );
    }
    await expect(tile.locator('.badge').textContent()).resolves.toBe('00:02');
    await expect(tile.getAttribute('data-processing')).resolves.toBe('done');

    await tile.getByRole('button', { name: 'Open Beach.mp4' }).click();
    const player = page.locator(`#player[data-upload-id="${video}"]`);
    await player.waitFor({ state: 'visible' });
    await expect(player.getAttribute('poster')).resolves.toMatch(/\/api\/media\/.+\/poster\?expires=/);
    await expect(player.getAttribute('src')).resolves.toMatch(/\/api\/media\/.+\/rendition\?expires=/);
    // Test code has no DOM types: the page-side script is a string, as in demo-page.e2e-spec.
    const played = await page.evaluate<{ duration: number; currentTime: number }>(`(async () => {
      const el = document.querySelector('#player');
      if (el.readyState < 1) await new Promise((resolve) => el.addEventListener('loadedmetadata', resolve, { once: true }));
      const seeked = new Promise((resolve) => el.addEventListener('seeked', resolve, { once: true }));
      el.currentTime = 1;
      await seeked;
      return { duration: el.duration, currentTime: el.currentTime };
    })()`);
    expect(Number.isFinite(played.duration)).toBe(true);
    expect(played.duration).toBeCloseTo(2, 0);
    expect(played.currentTime).toBeCloseTo(1, 0);

    // The photo (a HEIC, which browsers cannot show) opens as its WebP preview.
    await page.getByRole('button', { name: 'Close' }).click();
    await page
      .locator(`#media-list li[data-upload-id="${photo}"]`)
      .getByRole('button', { name: /^Open / })
      .click();
    const shown = page.locator('#photo');
    await shown.waitFor({ state: 'visible' });
    await page.waitForFunction(
      (img) => img !== null && img.complete && img.naturalWidth > 0,
      await shown.elementHandle(),
    );
    await expect(shown.getAttribute('src')).resolves.toMatch(/thumbnail\?size=preview&expires=/);
    expect((page as Page & { problems?: string[] }).problems).toEqual([]);
  });
});
