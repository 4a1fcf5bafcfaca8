'use strict';
/**
 * 3. Seed chunk API: 200 chunks of 5 MB, in order (1 GB). Each chunk to ours is paired with the same multipart
 * body sent to the raw pipe server right after it; the difference is ours' per-request overhead beyond moving
 * the bytes (auth, multipart parsing, hashing, the session lock, the assembly append, the session record).
 */
const { rmSync } = require('node:fs');
const { MB, request, uploadMultipart, registerUser } = require('../lib/client');
const { entry } = require('../lib/entry');
const { percentile } = require('../lib/stats');

const CHUNKS = 200;
const CHUNK = 5 * MB;

module.exports = {
  name: 'seed-chunks',
  async run(ctx) {
    const ours = await ctx.startOurs();
    const raw = await ctx.startPeer('raw-pipe');
    try {
      const user = await registerUser(ours.base);
      const send = async (fileId, index, last, total = CHUNKS) => {
        const res = await uploadMultipart(`${ours.base}/api/video/upload`, {
          headers: user.auth,
          size: CHUNK,
          fields: { fileId, chunkIndex: index, totalChunks: total, status: last ? 'completed' : 'uploading' },
        });
        if (res.status !== 200)
          throw new Error(`chunk ${index}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        return res;
      };
      const sendRaw = async () => {
        const res = await uploadMultipart(`${raw.base}/upload`, {
          size: CHUNK,
          fields: { fileId: 'x', chunkIndex: 0 },
        });
        rmSync(res.body.path, { force: true });
        return res;
      };
      // Warm-up: a short session, so the first measured chunks do not pay for JIT and connection setup.
      for (let i = 0; i < 3; i++) await Promise.all([send('warmup', i, i === 2, 3), sendRaw()]);
      const oursMs = [];
      const rawMs = [];
      const overhead = [];
      let last;
      for (let i = 0; i < CHUNKS; i++) {
        const a = i % 2 === 0; // alternate which goes first
        const first = a ? await send('bench-recording', i, i === CHUNKS - 1) : await sendRaw();
        const second = a ? await sendRaw() : await send('bench-recording', i, i === CHUNKS - 1);
        const [o, r] = a ? [first, second] : [second, first];
        oursMs.push(o.ms);
        rawMs.push(r.ms);
        overhead.push(o.ms - r.ms);
        last = o;
      }
      await request(`${ours.base}/api/media/${last.body.data.uploadId}`, {
        method: 'DELETE',
        headers: user.auth,
      });
      const withoutFinal = overhead.slice(0, -1);
      return [
        entry({
          name: 'seed chunks 200x5MB: per-request time',
          unit: 'ms',
          ours: oursMs,
          peer: rawMs,
          peerName: 'raw pipe of the same 5 MB body',
          extra: {
            p99Ours: Math.round(percentile(oursMs, 99) * 100) / 100,
            p99Raw: Math.round(percentile(rawMs, 99) * 100) / 100,
          },
        }),
        entry({
          name: 'seed chunks 200x5MB: overhead beyond transfer (p50)',
          unit: 'ms',
          ours: overhead,
          goal: { of: 'ours', op: '<=', value: 5 },
          extra: {
            p99: Math.round(percentile(overhead, 99) * 100) / 100,
            p99WithoutFinalChunk: Math.round(percentile(withoutFinal, 99) * 100) / 100,
            finalChunkOverheadMs: Math.round(overhead[overhead.length - 1]),
          },
          note: 'ours minus the paired raw-pipe request; the final chunk also assembles, hashes and stores the 1 GB file',
        }),
      ];
    } finally {
      await Promise.all([ours.stop(), raw.stop()]);
    }
  },
};
