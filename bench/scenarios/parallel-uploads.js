'use strict';
/* global performance, setTimeout, clearTimeout, URL */
/**
 * Parallel tus uploads (tus concatenation): tus-js-client in this process uploads one generated file to our
 * /api/tus with `parallelUploads: 4` (four partial uploads, then `Upload-Concat: final;…`, assembled server-side)
 * against `parallelUploads: 1`, alternating, both through bench/lib/delay-proxy.js: 25 ms each way and a 256 KiB
 * window per connection, so one connection carries ~5 MiB/s as TCP would on a 50 ms link. Reports MB/s from the
 * first request until the media record is `completed`, the speed-up, the time the final POST took (the
 * server-side join and finalisation), and whether the stored bytes are the file's (checksumSha256 = its SHA-256).
 *
 * Size: BENCH_PARALLEL_MB (default 200; 1024 for the documented 1 GB run, ~5 min per rep), BENCH_PARALLEL_REPS.
 * Bounded: REPS rounds, 50 MB PATCHes, no retries, each upload aborted past a deadline derived from the link's rate.
 */
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const { pipeline } = require('node:stream/promises');
const tus = require('tus-js-client');
const { MiB, MB, request, registerUser, sleep } = require('../lib/client');
const { alternate, entry } = require('../lib/entry');
const { mediaFile } = require('../lib/media-file');
const { startDelayProxy, calibrateLink } = require('../lib/delay-proxy');

const SIZE = Number(process.env.BENCH_PARALLEL_MB ?? 200) * MiB;
const REPS = Number(process.env.BENCH_PARALLEL_REPS ?? (SIZE > 512 * MiB ? 1 : 2));
// BENCH_PARALLEL_WINDOW_KIB=0: no window, the delay alone (the control run of docs/benchmarks.md).
const WINDOW_KIB = Number(process.env.BENCH_PARALLEL_WINDOW_KIB ?? 256);
const LINK = { oneWayMs: 25, windowBytes: WINDOW_KIB > 0 ? WINDOW_KIB * 1024 : Infinity };
const CHUNK = 50 * MB;
/** The link's best rate for one connection (bytes/s): the deadline of an upload is derived from it. */
const ONE_CONNECTION_RATE = LINK.windowBytes / ((2 * LINK.oneWayMs) / 1000);

async function sha256Of(path) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** One tus-js-client upload through the proxy; resolves its url, its duration and when the final POST went out. */
function tusUpload({ endpoint, path, headers, parallelUploads }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let finalPostAt = null;
    const upload = new tus.Upload(createReadStream(path), {
      endpoint,
      headers,
      chunkSize: CHUNK,
      parallelUploads,
      retryDelays: null,
      storeFingerprintForResuming: false,
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4', fileType: 'video' },
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'POST' && String(req.getHeader('Upload-Concat')).startsWith('final;'))
          finalPostAt = performance.now();
      },
      onError: (error) => {
        clearTimeout(deadline);
        reject(error);
      },
      onSuccess: () => {
        clearTimeout(deadline);
        const now = performance.now();
        resolve({
          url: upload.url,
          ms: now - started,
          finalMs: finalPostAt === null ? null : now - finalPostAt,
        });
      },
    });
    const deadline = setTimeout(
      () => {
        upload.abort(true).catch(() => undefined);
        reject(new Error(`parallelUploads ${parallelUploads}: no success before the deadline`));
      },
      ((3 * SIZE) / ONE_CONNECTION_RATE) * 1000 + 120_000,
    );
    upload.start();
  });
}

/** Waits for the media record to leave `uploading` (polled every 100 ms, at most 5 min) and returns it. */
async function settledMedia(base, id, auth) {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const res = await request(`${base}/api/media/${id}`, { headers: auth });
    if (res.status === 200 && res.body.media.status !== 'uploading') return res.body.media;
    if (res.status !== 200 && res.status !== 404)
      throw new Error(`GET /api/media/${id}: ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(100);
  }
  throw new Error(`media ${id} still not settled after 5 min`);
}

module.exports = {
  name: 'parallel-uploads',
  async run(ctx) {
    const calibration = await calibrateLink(LINK);
    ctx.log(` the link alone (bare HTTP sink): ${JSON.stringify(calibration)}`);
    const path = await mediaFile(SIZE);
    const expectedSha256 = await sha256Of(path);
    const ours = await ctx.startOurs();
    const proxy = await startDelayProxy({
      target: { host: '127.0.0.1', port: Number(new URL(ours.base).port) },
      ...LINK,
    });
    try {
      const user = await registerUser(ours.base);
      const windowLabel = WINDOW_KIB > 0 ? `${WINDOW_KIB} KiB window` : 'no window';
      const once = async (parallelUploads) => {
        proxy.takePeakBusy();
        const started = performance.now();
        const result = await tusUpload({
          endpoint: `${proxy.base}/api/tus`,
          path,
          headers: user.auth,
          parallelUploads,
        });
        const id = new URL(result.url).pathname.split('/').pop();
        const media = await settledMedia(ours.base, id, user.auth);
        const ms = performance.now() - started;
        if (media.status !== 'completed')
          throw new Error(`upload ${id} ended ${media.status}: ${media.failureReason}`);
        const removed = await request(`${ours.base}/api/media/${id}`, {
          method: 'DELETE',
          headers: user.auth,
        });
        if (removed.status !== 200) throw new Error(`DELETE /api/media/${id}: ${removed.status}`);
        return {
          mbps: SIZE / MB / (ms / 1000),
          finalPostMs: result.finalMs === null ? null : Math.round(result.finalMs),
          identical: media.checksumSha256 === expectedSha256 && media.fileSize === SIZE,
          // Connections that carried request bytes at the same time: 4 and 1 when the client did what it was told.
          connections: proxy.takePeakBusy(),
        };
      };
      ctx.log(
        ` ${SIZE / MiB} MiB through a ${2 * LINK.oneWayMs} ms / ${windowLabel} link: ${REPS} rep(s) each of parallelUploads 4 and 1`,
      );
      const samples = await alternate(REPS, { parallel4: () => once(4), parallel1: () => once(1) }, ctx.log);
      const pick = (name, key) => samples[name].map((s) => s[key]);
      const allIdentical = [...samples.parallel4, ...samples.parallel1].every((s) => s.identical);
      const label = SIZE >= 1024 * MiB ? `${SIZE / (1024 * MiB)}GiB` : `${SIZE / MiB}MiB`;
      const row = entry({
        name: `tus parallelUploads 4, ${label}, 50 ms RTT + ${windowLabel}`,
        unit: 'MB/s',
        ours: pick('parallel4', 'mbps'),
        peer: pick('parallel1', 'mbps'),
        peerName: 'parallelUploads: 1',
        extra: {
          bytesIdentical: allIdentical,
          finalPostMs: pick('parallel4', 'finalPostMs'),
          connections: {
            parallel4: pick('parallel4', 'connections'),
            parallel1: pick('parallel1', 'connections'),
          },
          link: {
            oneWayMs: LINK.oneWayMs,
            windowKiB: WINDOW_KIB || null,
            oneConnectionMBps: WINDOW_KIB ? Math.round((ONE_CONNECTION_RATE / MB) * 100) / 100 : null,
            measured: calibration,
          },
        },
      });
      if (!allIdentical) {
        row.met = false;
        row.error = 'stored bytes differ from the file (checksumSha256 or fileSize)';
      }
      return [row];
    } finally {
      await proxy.close();
      await ours.stop();
    }
  },
};
