'use strict';
/* global performance */
/**
 * 2. tus upload of 1 GiB through tus-js-client with 5 MB and 50 MB chunks: ours (/api/tus: auth, Mongo-backed
 * state, content sniffing, hashing, live progress) against tusd (the Go reference server) and a standalone
 * @tus/server with its FileStore (the library ours is built on, with nothing added).
 */
const { readdirSync, rmSync, createReadStream } = require('node:fs');
const { join } = require('node:path');
const tus = require('tus-js-client');
const { MiB, MB, request, registerUser } = require('../lib/client');
const { measureMemory, memoryOf } = require('../lib/proc');
const { alternate, entry } = require('../lib/entry');
const { mediaFile } = require('../lib/media-file');

const SIZE = 1024 * MiB;
const CHUNKS = [
  { label: '5MB', chunkSize: 5 * MB },
  { label: '50MB', chunkSize: 50 * MB },
];
const REPS = 3;

function tusUpload(endpoint, path, size, chunkSize, headers = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const upload = new tus.Upload(createReadStream(path), {
      endpoint,
      headers,
      chunkSize,
      uploadSize: size,
      retryDelays: null,
      storeFingerprintForResuming: false,
      metadata: { filename: 'clip.mp4', filetype: 'video/mp4', fileType: 'video' },
      onError: reject,
      onSuccess: () => resolve({ ms: performance.now() - started, url: upload.url }),
    });
    upload.start();
  });
}

function emptyDir(dir) {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

module.exports = {
  name: 'tus-upload',
  async run(ctx) {
    const path = await mediaFile(SIZE);
    const ours = await ctx.startOurs();
    const tusd = await ctx.startTusd();
    const lib = await ctx.startPeer('tus');
    try {
      const user = await registerUser(ours.base);
      const targets = {
        ours: { server: ours, endpoint: `${ours.base}/api/tus`, headers: user.auth },
        tusd: { server: tusd, endpoint: `${tusd.base}/files/` },
        tusServer: { server: lib, endpoint: `${lib.base}/files` },
      };
      const once = async (name, size, chunkSize, file = path) => {
        const { server, endpoint, headers } = targets[name];
        const { result, growthMiB } = await measureMemory(
          server.pid,
          () => tusUpload(endpoint, file, size, chunkSize, headers),
          server.idleMiB,
        );
        if (name === 'ours') {
          const id = result.url.split('/').pop();
          const res = await request(`${ours.base}/api/media/${id}`, { method: 'DELETE', headers: user.auth });
          if (res.status !== 200)
            throw new Error(
              `ours: the tus upload did not complete (${res.status} ${JSON.stringify(res.body)})`,
            );
        } else {
          emptyDir(server.dir);
        }
        return { mbps: size / MB / (result.ms / 1000), growthMiB };
      };
      const warm = await mediaFile(8 * MiB);
      for (const name of Object.keys(targets)) {
        await once(name, 8 * MiB, 5 * MB, warm);
        targets[name].server.idleMiB = memoryOf(targets[name].server.pid).rssMiB;
      }
      const rows = [];
      for (const { label, chunkSize } of CHUNKS) {
        ctx.log(` 1 GiB in ${label} chunks: ${REPS} reps each of ours, tusd, @tus/server`);
        const samples = await alternate(
          REPS,
          Object.fromEntries(Object.keys(targets).map((name) => [name, () => once(name, SIZE, chunkSize)])),
          ctx.log,
        );
        const pick = (name, key) => samples[name].map((s) => s[key]);
        const median = (name, key) => entry({ name, unit: '', ours: pick(name, key) }).ours;
        rows.push(
          entry({
            name: `tus 1GB, ${label} chunks: throughput`,
            unit: 'MB/s',
            ours: pick('ours', 'mbps'),
            peer: pick('tusd', 'mbps'),
            peerName: `tusd ${require('../lib/setup').TUSD_VERSION}`,
            goal: { of: 'ratio', op: '>=', value: 0.9 },
            extra: {
              tusServerMBps: median('tusServer', 'mbps'),
              ratioOursToTusServer:
                Math.round((median('ours', 'mbps') / median('tusServer', 'mbps')) * 1000) / 1000,
              rssGrowthMiB: {
                ours: median('ours', 'growthMiB'),
                tusd: median('tusd', 'growthMiB'),
                tusServer: median('tusServer', 'growthMiB'),
              },
            },
          }),
        );
      }
      return rows;
    } finally {
      await Promise.all([ours.stop(), tusd.stop(), lib.stop()]);
    }
  },
};
