'use strict';
/* global performance */
/**
 * 9. Media processing: thumbnails per second for 12 MP photos and posters (with their thumbnails) per second for
 * 1080p videos, ours (upload, then the background job: probe, niced child processes, storage writes, record
 * updates) against the bare baseline (the same tools on the same files in one process, bench/peers/
 * bare-processing.js). Then the single-request upload throughput while a backlog of processing jobs runs,
 * against the same uploads with nothing to process (goal: >= 0.85 of it).
 */
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');
const { MiB, MB, request, uploadMultipart, registerUser, sleep } = require('../lib/client');
const { alternate, entry } = require('../lib/entry');
const { BENCH_CACHE } = require('../lib/servers');

const PHOTOS = 8;
const VIDEOS = 4;
const BACKLOG_PHOTOS = 16;
const UPLOAD_BYTES = 100 * MiB;

/** A cached media file made with ffmpeg on first use. */
function made(name, args) {
  const path = join(BENCH_CACHE, name);
  if (existsSync(path)) return path;
  mkdirSync(BENCH_CACHE, { recursive: true });
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, `${path}.partial`]);
  renameSync(`${path}.partial`, path);
  return path;
}

/** A 12 MP (4000x3000) camera-like JPEG: a test pattern with grain, so it compresses like a photo (~4 MB). */
const photo = () =>
  made('photo-12mp-v1.jpg', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=4000x3000', '-vf', 'noise=alls=24:allf=u', '-frames:v', '1'],
    ...['-q:v', '3', '-f', 'image2'],
  ]);

/** A 1080p H.264 + AAC clip of 10 s, `moov` first (nothing to remux: the poster and thumbnails are the work). */
const video = () =>
  made('video-1080p-v1.mp4', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine', '-t', '10'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    ...['-movflags', '+faststart', '-f', 'mp4'],
  ]);

async function uploadFile(server, user, path, { fileType, fileName, contentType }) {
  const result = await uploadMultipart(`${server.base}/api/upload/media`, {
    headers: user.auth,
    fields: { fileType },
    body: readFileSync(path),
    fileName,
    contentType,
  });
  if (result.status !== 201)
    throw new Error(`upload answered ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.uploadId;
}

/** Resolves when every upload's processing is done; throws on a failed one or after `timeoutMs`. */
async function processed(server, user, ids, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(ids);
  while (pending.size > 0) {
    if (Date.now() > deadline)
      throw new Error(`${pending.size} uploads still processing after ${timeoutMs} ms`);
    for (const id of [...pending]) {
      const { body } = await request(`${server.base}/api/media/${id}`, { headers: user.auth });
      const status = body?.media?.processing?.status;
      if (status === 'failed') throw new Error(`processing of ${id} failed: ${body.media.processing.error}`);
      if (status === 'done') pending.delete(id);
    }
    if (pending.size > 0) await sleep(50);
  }
}

async function removeAll(server, user, ids) {
  for (const id of ids)
    await request(`${server.base}/api/media/${id}`, { method: 'DELETE', headers: user.auth });
}

/** Files per second through the service: from the first upload's start to the last one's processing done. */
async function oursRate(server, user, path, count, kind) {
  const started = performance.now();
  const ids = [];
  for (let i = 0; i < count; i++) {
    ids.push(
      await uploadFile(server, user, path, {
        fileType: kind,
        fileName: kind === 'photo' ? 'photo.jpg' : 'clip.mp4',
        contentType: kind === 'photo' ? 'image/jpeg' : 'video/mp4',
      }),
    );
  }
  await processed(server, user, ids);
  const seconds = (performance.now() - started) / 1000;
  await removeAll(server, user, ids);
  return count / seconds;
}

function bareRate(path, count, kind) {
  const peer = join(__dirname, '..', 'peers', 'bare-processing.js');
  const out = execFileSync(process.execPath, [peer, kind, ...Array(count).fill(path)], { encoding: 'utf8' });
  return count / JSON.parse(out).seconds;
}

async function uploadMBps(server, user) {
  const result = await uploadMultipart(`${server.base}/api/upload/media`, {
    size: UPLOAD_BYTES,
    headers: user.auth,
    fields: { fileType: 'video' },
  });
  if (result.status !== 201) throw new Error(`upload answered ${result.status}`);
  await request(`${server.base}/api/media/${result.body.uploadId}`, { method: 'DELETE', headers: user.auth });
  return UPLOAD_BYTES / MB / (result.ms / 1000);
}

module.exports = {
  name: 'processing',
  async run(ctx) {
    const photoPath = photo();
    const videoPath = video();
    const ours = await ctx.startOurs();
    try {
      const user = await registerUser(ours.base);
      // Warm-up: the first job loads sharp in a fresh worker, ffmpeg from disk.
      await oursRate(ours, user, photoPath, 1, 'photo');
      await oursRate(ours, user, videoPath, 1, 'video');
      bareRate(photoPath, 1, 'photo');

      ctx.log(` thumbnails: ${PHOTOS} 12 MP photos; posters: ${VIDEOS} 1080p videos; 3 reps, alternating`);
      const photos = await alternate(
        3,
        {
          ours: () => oursRate(ours, user, photoPath, PHOTOS, 'photo'),
          bare: () => bareRate(photoPath, PHOTOS, 'photo'),
        },
        ctx.log,
      );
      const videos = await alternate(
        3,
        {
          ours: () => oursRate(ours, user, videoPath, VIDEOS, 'video'),
          bare: () => bareRate(videoPath, VIDEOS, 'video'),
        },
        ctx.log,
      );

      ctx.log(` uploads of ${UPLOAD_BYTES / MiB} MiB: idle, and with ${BACKLOG_PHOTOS} photos processing`);
      const uploads = await alternate(
        3,
        {
          idle: () => uploadMBps(ours, user),
          busy: async () => {
            const ids = [];
            for (let i = 0; i < BACKLOG_PHOTOS; i++) {
              ids.push(
                await uploadFile(ours, user, photoPath, {
                  fileType: 'photo',
                  fileName: 'p.jpg',
                  contentType: 'image/jpeg',
                }),
              );
            }
            const mbps = await uploadMBps(ours, user);
            await processed(ours, user, ids);
            await removeAll(ours, user, ids);
            return mbps;
          },
        },
        ctx.log,
      );
      return [
        entry({
          name: 'processing: 12 MP photo thumbnails',
          unit: 'photos/s',
          ours: photos.ours,
          peer: photos.bare,
          peerName: 'sharp in one process (bare)',
          goal: { of: 'ratio', op: '>=', value: 0.7 },
        }),
        entry({
          name: 'processing: 1080p video posters + thumbnails',
          unit: 'videos/s',
          ours: videos.ours,
          peer: videos.bare,
          peerName: 'ffmpeg + sharp in one process (bare)',
          goal: { of: 'ratio', op: '>=', value: 0.7 },
        }),
        entry({
          name: 'processing: upload throughput while processing runs',
          unit: 'MB/s',
          ours: uploads.busy,
          peer: uploads.idle,
          peerName: 'the same uploads with nothing to process',
          goal: { of: 'ratio', op: '>=', value: 0.85 },
        }),
      ];
    } finally {
      await ours.stop();
    }
  },
};
