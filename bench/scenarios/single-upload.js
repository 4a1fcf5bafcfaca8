'use strict';
/**
 * 1. Single-request upload of 100 MiB and 1 GiB of generated mp4-like data: ours (POST /api/upload/media,
 * multipart, sniffed, hashed, tracked) against the limit (raw Node pipe to a file) and multer memoryStorage.
 * Throughput (MB/s of file bytes, request start to response end) and the server's peak RSS growth.
 */
const { rmSync } = require('node:fs');
const { MiB, MB, request, uploadMultipart, registerUser } = require('../lib/client');
const { measureMemory, memoryOf } = require('../lib/proc');
const { alternate, entry } = require('../lib/entry');

const SIZES = [
  { label: '100MB', size: 100 * MiB, reps: 5 },
  { label: '1GB', size: 1024 * MiB, reps: 3 },
];

async function timedUpload(server, url, options, cleanup) {
  const { result, growthMiB } = await measureMemory(
    server.pid,
    () => uploadMultipart(url, options),
    server.idleMiB,
  );
  if (result.status !== 201)
    throw new Error(
      `${server.name}: upload answered ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`,
    );
  await cleanup(result.body);
  return { mbps: options.size / MB / (result.ms / 1000), growthMiB };
}

module.exports = {
  name: 'single-upload',
  async run(ctx) {
    const ours = await ctx.startOurs();
    const raw = await ctx.startPeer('raw-pipe');
    const multer = await ctx.startPeer('multer-memory');
    try {
      const user = await registerUser(ours.base);
      const contenders = {
        ours: (size) =>
          timedUpload(
            ours,
            `${ours.base}/api/upload/media`,
            { size, headers: user.auth, fields: { fileType: 'video' } },
            (body) =>
              request(`${ours.base}/api/media/${body.uploadId}`, { method: 'DELETE', headers: user.auth }),
          ),
        raw: (size) =>
          timedUpload(raw, `${raw.base}/upload`, { size }, (body) => rmSync(body.path, { force: true })),
        multer: (size) =>
          timedUpload(multer, `${multer.base}/upload`, { size }, (body) =>
            rmSync(body.path, { force: true }),
          ),
      };
      // Warm-up (JIT, connections, first allocations), then each server's idle RSS: the baseline of "growth".
      for (const [name, server] of [
        ['ours', ours],
        ['raw', raw],
        ['multer', multer],
      ]) {
        await contenders[name](4 * MiB);
        server.idleMiB = memoryOf(server.pid).rssMiB;
      }
      const rows = [];
      for (const { label, size, reps } of SIZES) {
        ctx.log(` ${label}: ${reps} reps each of ours, raw pipe, multer memoryStorage`);
        const samples = await alternate(
          reps,
          {
            ours: () => contenders.ours(size),
            raw: () => contenders.raw(size),
            multer: () => contenders.multer(size),
          },
          ctx.log,
        );
        const pick = (name, key) => samples[name].map((s) => s[key]);
        rows.push(
          entry({
            name: `single-upload ${label}: throughput`,
            unit: 'MB/s',
            ours: pick('ours', 'mbps'),
            peer: pick('raw', 'mbps'),
            peerName: 'raw Node pipe to file (the limit)',
            goal: { of: 'ratio', op: '>=', value: 0.8 },
            extra: {
              multerMemoryMBps: entry({ name: 'multer', unit: 'MB/s', ours: pick('multer', 'mbps') }).ours,
            },
          }),
          entry({
            name: `single-upload ${label}: server peak RSS growth`,
            unit: 'MiB',
            ours: pick('ours', 'growthMiB'),
            peer: pick('multer', 'growthMiB'),
            peerName: 'multer memoryStorage',
            goal: { of: 'ours', op: '<=', value: 64 },
            extra: {
              rawPipeGrowthMiB: entry({ name: 'raw', unit: 'MiB', ours: pick('raw', 'growthMiB') }).ours,
            },
          }),
        );
      }
      return rows;
    } finally {
      await Promise.all([ours.stop(), raw.stop(), multer.stop()]);
    }
  },
};
