'use strict';
/* global performance */
/**
 * 6. Cancel: a single-request upload streams (throttled to 20 MB/s so it is surely mid-stream); POST
 * /api/upload/cancel/:id; then the time from the cancel response until the partial file is gone and the
 * progress status reads `cancelled` (polled every millisecond or so). Also the cancel request's own latency.
 */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { MB, request, uploadMultipart, registerUser, sleep } = require('../lib/client');
const { entry } = require('../lib/entry');

const REPS = 7;

module.exports = {
  name: 'cancel',
  async run(ctx) {
    const ours = await ctx.startOurs();
    try {
      const user = await registerUser(ours.base);
      const settle = [];
      const cancelMs = [];
      for (let rep = 0; rep < REPS; rep++) {
        const id = `cancel_${rep}_${randomBytes(4).toString('hex')}`;
        const partial = join(ours.dir, 'tmp', `${user.id}.${id}.part`);
        const upload = uploadMultipart(`${ours.base}/api/upload/media`, {
          size: 200 * MB,
          bytesPerSecond: 20 * MB,
          headers: { ...user.auth, 'x-upload-id': id },
          fields: { fileType: 'video' },
        });
        const deadline = Date.now() + 10_000;
        while (!existsSync(partial) && Date.now() < deadline) await sleep(10);
        await sleep(300); // some MB on disk
        const cancel = await request(`${ours.base}/api/upload/cancel/${id}`, {
          method: 'POST',
          headers: user.auth,
        });
        const t0 = performance.now();
        if (cancel.status !== 200)
          throw new Error(`cancel answered ${cancel.status} ${JSON.stringify(cancel.body)}`);
        let gone = false;
        let cancelled = false;
        while (!(gone && cancelled) && performance.now() - t0 < 5000) {
          gone ||= !existsSync(partial);
          if (!cancelled) {
            const res = await request(`${ours.base}/api/upload/progress/${id}`, { headers: user.auth });
            cancelled = res.body?.status === 'cancelled';
          }
        }
        if (!(gone && cancelled))
          throw new Error(
            `upload ${id}: not cleaned up 5 s after cancel (gone=${gone}, cancelled=${cancelled})`,
          );
        settle.push(performance.now() - t0);
        cancelMs.push(cancel.ms);
        await upload;
      }
      return [
        entry({
          name: 'cancel: response to file gone + status cancelled',
          unit: 'ms',
          ours: settle,
          goal: { of: 'ours', op: '<=', value: 100 },
          extra: { cancelRequestMs: entry({ name: 'c', unit: 'ms', ours: cancelMs }).ours },
          note: 'the cancel route waits for the cleanup before it answers, so this is mostly the time of one progress GET',
        }),
        entry({ name: 'cancel: POST /api/upload/cancel latency', unit: 'ms', ours: cancelMs }),
      ];
    } finally {
      await ours.stop();
    }
  },
};
