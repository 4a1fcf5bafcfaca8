'use strict';
/* global performance */
/**
 * 4. Concurrency: 50 uploads of 20 MiB at once (1 GiB in all), ours against the raw pipe server. All must
 * succeed. Aggregate throughput, p99 request time, server peak RSS growth.
 */
const { rmSync } = require('node:fs');
const { MiB, MB, request, uploadMultipart, registerUser } = require('../lib/client');
const { measureMemory, memoryOf } = require('../lib/proc');
const { alternate, entry } = require('../lib/entry');
const { percentile } = require('../lib/stats');

const UPLOADS = 50;
const SIZE = 20 * MiB;
const REPS = 3;

module.exports = {
  name: 'concurrency',
  async run(ctx) {
    const ours = await ctx.startOurs();
    const raw = await ctx.startPeer('raw-pipe');
    try {
      const user = await registerUser(ours.base);
      const one = {
        ours: async () => {
          const res = await uploadMultipart(`${ours.base}/api/upload/media`, {
            size: SIZE,
            headers: user.auth,
            fields: { fileType: 'video' },
          });
          if (res.status === 201)
            await request(`${ours.base}/api/media/${res.body.uploadId}`, {
              method: 'DELETE',
              headers: user.auth,
            });
          return res;
        },
        raw: async () => {
          const res = await uploadMultipart(`${raw.base}/upload`, { size: SIZE });
          if (res.status === 201) rmSync(res.body.path, { force: true });
          return res;
        },
      };
      const servers = { ours, raw };
      const wave = async (name, count = UPLOADS) => {
        const started = performance.now();
        const { result, growthMiB } = await measureMemory(
          servers[name].pid,
          () => Promise.all(Array.from({ length: count }, () => one[name]())),
          servers[name].idleMiB,
        );
        const seconds = (performance.now() - started) / 1000;
        const failed = result.filter((r) => r.status !== 201);
        return {
          mbps: (count * SIZE) / MB / seconds,
          p99Ms: percentile(
            result.map((r) => r.ms),
            99,
          ),
          failed: failed.length,
          firstFailure: failed[0]
            ? `${failed[0].status} ${JSON.stringify(failed[0].body ?? String(failed[0].error)).slice(0, 200)}`
            : undefined,
          growthMiB,
        };
      };
      for (const name of ['ours', 'raw']) {
        await wave(name, 5);
        servers[name].idleMiB = memoryOf(servers[name].pid).rssMiB;
      }
      const samples = await alternate(REPS, { ours: () => wave('ours'), raw: () => wave('raw') }, ctx.log);
      const pick = (name, key) => samples[name].map((s) => s[key]);
      const failures = pick('ours', 'failed').reduce((a, b) => a + b, 0);
      return [
        entry({
          name: '50 concurrent 20MB uploads: aggregate throughput',
          unit: 'MB/s',
          ours: pick('ours', 'mbps'),
          peer: pick('raw', 'mbps'),
          peerName: 'raw Node pipe to file',
          extra: {
            failedUploads: failures,
            firstFailure: samples.ours.find((s) => s.firstFailure)?.firstFailure,
          },
        }),
        entry({
          name: '50 concurrent 20MB uploads: p99 request time',
          unit: 'ms',
          ours: pick('ours', 'p99Ms'),
          peer: pick('raw', 'p99Ms'),
          peerName: 'raw Node pipe to file',
        }),
        entry({
          name: '50 concurrent 20MB uploads: server peak RSS growth',
          unit: 'MiB',
          ours: pick('ours', 'growthMiB'),
          peer: pick('raw', 'growthMiB'),
          peerName: 'raw Node pipe to file',
        }),
        entry({
          name: '50 concurrent 20MB uploads: failed uploads',
          unit: 'uploads',
          ours: pick('ours', 'failed'),
          goal: { of: 'ours', op: '<=', value: 0 },
        }),
      ];
    } finally {
      await Promise.all([ours.stop(), raw.stop()]);
    }
  },
};
