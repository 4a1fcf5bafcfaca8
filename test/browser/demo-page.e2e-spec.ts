import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createApiClient, type ApiClient } from '../../client';
import { largeMp4Like } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import {
  buildDemo,
  launchChromium,
  listFiles,
  openDemo,
  screenshot,
  sha256,
  signUp,
  waitUntil,
} from './browser-support';

jest.setTimeout(120_000);

describe('demo page in Chromium (/demo)', () => {
  let testApp: TestApp;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let scratch: string;
  const pages: Page[] = [];

  beforeAll(async () => {
    await buildDemo();
    scratch = await mkdtemp(join(tmpdir(), 'demo-e2e-'));
    testApp = await createTestApp({ env: { PROGRESS_PERSIST_MS: '200', PROGRESS_EVENT_MS: '100' } });
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterEach(async () => {
    const name = expect.getState().currentTestName ?? 'test';
    for (const page of pages.splice(0)) {
      await screenshot(page, name.replace(/[^a-z0-9]+/gi, '-').slice(0, 100));
      await page.context().close();
    }
  });

  afterAll(async () => {
    await closeBrowser?.();
    await testApp?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function loggedInPage(): Promise<{ page: Page; api: ApiClient }> {
    const { page } = await openDemo(browser, testApp.url);
    pages.push(page);
    const token = await signUp(page, `demo_${randomBytes(4).toString('hex')}`);
    return { page, api: createApiClient({ baseUrl: testApp.url, token: () => token }) };
  }

  /** Bytes of the stored file, fetched through the API like any client would. */
  async function storedBytes(api: ApiClient, uploadId: string): Promise<Buffer> {
    const { data, response } = await api.GET('/api/media/{id}/content', {
      params: { path: { id: uploadId } },
      parseAs: 'arrayBuffer',
    });
    expect(response.status).toBe(200);
    return Buffer.from(data as ArrayBuffer);
  }

  async function record(page: Page, ms: number, during?: () => Promise<void>): Promise<string> {
    await page.getByRole('button', { name: 'Start recording' }).click();
    await page.locator('#record[data-state="recording"]').waitFor();
    await during?.();
    await page.waitForTimeout(ms);
    await page.getByRole('button', { name: 'Stop recording' }).click();
    await page.locator('#record[data-state="completed"]').waitFor({ timeout: 60_000 });
    return (await page.locator('#record').getAttribute('data-upload-id'))!;
  }

  it('serves the page under the default CSP, without script errors, readable on a phone screen', async () => {
    const { page } = await openDemo(browser, testApp.url);
    pages.push(page);
    const response = await page.request.get('/demo/');
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.getByRole('heading', { name: 'Media Upload demo' }).isVisible()).resolves.toBe(true);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    expect((page as Page & { problems?: string[] }).problems).toEqual([]);
  });

  it('records ~3 s from the camera, uploads it while recording, reaches 100 % and plays it from My media', async () => {
    const { page, api } = await loggedInPage();
    const uploadId = await record(page, 3000);

    await expect(page.locator('#record-progress').getAttribute('data-percent')).resolves.toBe('100');
    await expect(page.evaluate<number>("document.querySelector('#record-bar').value")).resolves.toBe(100);

    // The server assembled exactly the bytes MediaRecorder produced.
    const pageSha = await page.locator('#record').getAttribute('data-sha256');
    const { data: media } = await api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
    expect(media?.media).toMatchObject({ status: 'completed', source: 'chunked', mimeType: 'video/webm' });
    expect(media?.media.checksumSha256).toBe(pageSha);
    expect(sha256(await storedBytes(api, uploadId))).toBe(pageSha);

    const row = page.locator(`#media-list li[data-upload-id="${uploadId}"]`);
    await expect(row.getAttribute('data-status')).resolves.toBe('completed');
    await row.getByRole('button', { name: /^Open / }).click();
    const player = page.locator(`#player[data-upload-id="${uploadId}"][data-duration]`);
    await player.waitFor({ timeout: 30_000 });
    const duration = Number(await player.getAttribute('data-duration'));
    expect(Number.isFinite(duration)).toBe(true);
    expect(duration).toBeGreaterThan(1);
    expect(await page.evaluate<number>("document.querySelector('#player').duration")).toBe(duration);
  });

  it('cancels a throttled file upload midway: the server records cancelled and keeps no bytes', async () => {
    const { page, api } = await loggedInPage();
    const file = await largeMp4Like(scratch, 6 * 1024 * 1024);
    // Throttle the browser's uploads so the request is still streaming when Cancel is clicked.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 512 * 1024,
    });
    await page.getByLabel('Photo or video').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const section = page.locator('#upload');
    await page.locator('#upload[data-upload-id^="file_"]').waitFor();
    const uploadId = (await section.getAttribute('data-upload-id'))!;

    // Wait until the server has stored some bytes, then cancel from the page.
    await waitUntil(
      async () =>
        (await api.GET('/api/upload/progress/{id}', { params: { path: { id: uploadId } } })).data
          ?.bytesUploaded ?? 0,
      (bytes) => bytes > 0,
    );
    await page.getByRole('button', { name: 'Cancel upload' }).click();
    await page.getByText('Upload cancelled').waitFor();
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    const { data: progress } = await api.GET('/api/upload/progress/{id}', {
      params: { path: { id: uploadId } },
    });
    expect(progress?.status).toBe('cancelled');
    expect(progress?.bytesUploaded).toBeLessThan(6 * 1024 * 1024);
    const { data: media } = await api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
    expect(media?.media).toMatchObject({ status: 'cancelled', fileSize: null });
    await waitUntil(
      async () =>
        (await listFiles(testApp.uploadDir)).filter(
          (path) => path.includes(uploadId) || path.startsWith('tmp'),
        ),
      (left) => left.length === 0,
      10_000,
    );
    // My media shows it as cancelled.
    await page.locator(`#media-list li[data-upload-id="${uploadId}"][data-status="cancelled"]`).waitFor();
  });

  it('resumes a recording upload after the network drops mid-recording, byte-identical', async () => {
    const { page, api } = await loggedInPage();
    const context = page.context();
    // One chunk reaches the server but its answer is lost: the page must learn from the status route that it
    // arrived, not send it twice.
    let lostAnswers = 0;
    await page.route('**/api/video/upload', async (route) => {
      const body = route.request().postDataBuffer()?.toString('latin1') ?? '';
      if (lostAnswers === 0 && /name="chunkIndex"\r\n\r\n1\r\n/.test(body)) {
        lostAnswers += 1;
        await route.fetch();
        return route.abort('connectionreset');
      }
      return route.continue();
    });

    const uploadId = await record(page, 4000, async () => {
      await waitUntil(
        () => page.locator('#record-progress').getAttribute('data-percent'),
        (percent) => Number(percent) > 0,
      );
      await context.setOffline(true);
      await page.getByText(/Connection problem/).waitFor();
      await page.waitForTimeout(1500);
      await context.setOffline(false);
    });

    expect(lostAnswers).toBe(1);
    await expect(page.locator('#record').getAttribute('data-resumed-from')).resolves.not.toBeNull();
    const pageSha = (await page.locator('#record').getAttribute('data-sha256'))!;
    const { data: status } = await api.GET('/api/video/status/{fileId}', {
      params: { path: { fileId: (await page.locator('#record').getAttribute('data-file-id'))! } },
    });
    expect(status?.data).toMatchObject({ status: 'completed', uploadId, missingChunks: [] });
    expect(status!.data.receivedChunks.length).toBeGreaterThanOrEqual(3);
    const { data: media } = await api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
    expect(media?.media.checksumSha256).toBe(pageSha);
    expect(sha256(await storedBytes(api, uploadId))).toBe(pageSha);
    expect(await listFiles(join(testApp.uploadDir, 'chunks'))).toEqual([]);
  });
});
