import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Browser } from 'playwright-core';
import { upload } from '../media/support/multipart-upload';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { launchChromium } from './browser-support';

jest.setTimeout(120_000);

/** What the page saw of each element, once every one of them loaded or failed. */
interface Outcome {
  photo: { loaded: boolean; width: number };
  video: { loaded: boolean; error: number | null; width: number };
  canvas: { loaded: boolean; readable: boolean };
}

/**
 * The page a web app on another site would serve: signed links in a plain <img> and <video>, and a `crossorigin`
 * <img> drawn on a canvas whose pixels are then read (which needs CORS).
 */
function pageHtml(photoUrl: string, videoUrl: string, canvasUrl: string): string {
  return `<!doctype html><html><body>
<img id="photo" src="${photoUrl}">
<video id="video" muted preload="metadata" src="${videoUrl}"></video>
<img id="canvas-source" crossorigin="anonymous" src="${canvasUrl}">
<script>
  const settled = (el, ok, bad) => new Promise((done) => {
    el.addEventListener(ok, () => done(true), { once: true });
    el.addEventListener(bad, () => done(false), { once: true });
  });
  const photo = document.getElementById('photo');
  const video = document.getElementById('video');
  const source = document.getElementById('canvas-source');
  window.outcome = Promise.all([
    photo.complete ? photo.naturalWidth > 0 : settled(photo, 'load', 'error'),
    video.readyState >= 1 || settled(video, 'loadedmetadata', 'error'),
    source.complete ? source.naturalWidth > 0 : settled(source, 'load', 'error'),
  ]).then(([photoLoaded, videoLoaded, sourceLoaded]) => {
    let readable = false;
    try {
      const canvas = document.createElement('canvas');
      canvas.width = source.naturalWidth;
      canvas.height = source.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(source, 0, 0);
      readable = context.getImageData(0, 0, 1, 1).data.length === 4;
    } catch { /* a tainted canvas throws SecurityError */ }
    return {
      photo: { loaded: photoLoaded, width: photo.naturalWidth },
      video: { loaded: videoLoaded, error: video.error && video.error.code, width: video.videoWidth },
      canvas: { loaded: sourceLoaded, readable },
    };
  });
</script></body></html>`;
}

describe('Signed media links embedded by a page on another site (Chromium)', () => {
  let t: TestApp;
  let pageServer: Server;
  let pageOrigin: string;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let html = '';

  beforeAll(async () => {
    pageServer = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
    await new Promise<void>((done) => pageServer.listen(0, '127.0.0.1', done));
    // `localhost` and `127.0.0.1` are different sites: the page is cross-site to the API, as in production.
    pageOrigin = `http://localhost:${(pageServer.address() as AddressInfo).port}`;
    t = await createTestApp({ env: { CORS_ORIGINS: pageOrigin } });
    ({ browser, close: closeBrowser } = await launchChromium());
  });

  afterAll(async () => {
    await closeBrowser?.();
    await t?.close();
    await new Promise((done) => pageServer?.close(done));
  });

  async function signedLink(user: TestUser, fileType: string, path: string, name: string): Promise<string> {
    const res = await upload(t.url, {
      headers: user.auth,
      parts: [
        { name: 'fileType', value: fileType },
        { name: 'file', filename: name, data: await readFile(path) },
      ],
    });
    expect(res.status).toBe(201);
    const signed = await request(t.url)
      .post(`/api/media/${res.body.uploadId}/signed-url`)
      .set(user.auth)
      .expect(201);
    return new URL(signed.body.url as string, t.url).href;
  }

  it('shows the photo, plays the video, and lets a listed origin read the pixels', async () => {
    const fixtures = await mediaFixtures();
    const user = await registerUser(t.url, 'embed');
    html = pageHtml(
      await signedLink(user, 'photo', fixtures.jpeg, 'a.jpg'),
      await signedLink(user, 'video', fixtures.webm, 'clip.webm'),
      await signedLink(user, 'photo', fixtures.png, 'b.png'),
    );
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${pageOrigin}/`);
      const outcome = await page.evaluate<Outcome>('window.outcome');
      expect(outcome).toEqual({
        photo: { loaded: true, width: 64 },
        video: { loaded: true, error: null, width: 160 },
        canvas: { loaded: true, readable: true },
      });
    } finally {
      await context.close();
    }
  });
});
