'use strict';
/**
 * 5. Progress under load: GET /api/upload/progress/:id, one request at a time, while 20 uploads of 64 MiB stream
 * into ours; compared with the same GET while one upload trickles in. Also the SSE lag: arrival time of each progress
 * event minus the `lastUpdateTime` it carries (events are spaced PROGRESS_EVENT_MS apart by design; the lag is
 * what delivery adds on top).
 */
const http = require('node:http');
const { randomBytes } = require('node:crypto');
const { MiB, request, uploadMultipart, registerUser, sleep } = require('../lib/client');
const { entry } = require('../lib/entry');
const { percentile } = require('../lib/stats');

const UPLOADS = 20;
const SIZE = 64 * MiB;
const MAX_POLLS = 1000;

function sseLags(url, headers, stopAt) {
  return new Promise((resolve) => {
    const lags = [];
    const req = http.get(url, { headers: { ...headers, accept: 'text/event-stream' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (text) => {
        const now = Date.now();
        buffer += text;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (event.startsWith('event: progress') && data) {
            const view = JSON.parse(data.slice(6));
            if (view.status === 'uploading') lags.push(now - Date.parse(view.lastUpdateTime));
          }
        }
      });
      res.on('end', () => resolve(lags));
    });
    req.on('error', () => resolve(lags));
    stopAt.then(() => {
      req.destroy();
      resolve(lags);
    });
  });
}

module.exports = {
  name: 'progress-load',
  async run(ctx) {
    const ours = await ctx.startOurs();
    try {
      const user = await registerUser(ours.base);
      const poll = async (id) => {
        const res = await request(`${ours.base}/api/upload/progress/${id}`, { headers: user.auth });
        if (res.status !== 200) throw new Error(`progress answered ${res.status}`);
        return res.ms;
      };
      const waitLive = async (id) => {
        for (let i = 0; i < 400; i++) {
          if (
            (await request(`${ours.base}/api/upload/progress/${id}`, { headers: user.auth })).status === 200
          )
            return;
          await sleep(5);
        }
        throw new Error(`upload ${id} never showed progress`);
      };
      // Baseline: the same GET while a single upload trickles in at 2 MB/s (a quiet server).
      const quietId = `quiet_${randomBytes(4).toString('hex')}`;
      const quiet = uploadMultipart(`${ours.base}/api/upload/media`, {
        size: 8 * MiB,
        bytesPerSecond: 2e6,
        headers: { ...user.auth, 'x-upload-id': quietId },
        fields: { fileType: 'video' },
      });
      await waitLive(quietId);
      const idle = [];
      for (let i = 0; i < 200; i++) idle.push(await poll(quietId));
      await quiet;

      const ids = Array.from({ length: UPLOADS }, (_, i) => `bench_${i}_${randomBytes(4).toString('hex')}`);
      const uploads = ids.map((id) =>
        uploadMultipart(`${ours.base}/api/upload/media`, {
          size: SIZE,
          headers: { ...user.auth, 'x-upload-id': id },
          fields: { fileType: 'video' },
        }),
      );
      let finished = false;
      const all = Promise.all(uploads).finally(() => (finished = true));
      // Wait until the live upload exists, then follow it by SSE and poll all of them in turn.
      for (const id of ids) await waitLive(id);
      const sse = sseLags(`${ours.base}/api/upload/progress/${ids[0]}/events`, user.auth, all);
      const loaded = [];
      for (let i = 0; !finished && i < MAX_POLLS; i++) loaded.push(await poll(ids[i % UPLOADS]));
      const results = await all;
      const lags = await sse;
      const failed = results.filter((r) => r.status !== 201).length;
      for (const r of results)
        if (r.status === 201)
          await request(`${ours.base}/api/media/${r.body.uploadId}`, {
            method: 'DELETE',
            headers: user.auth,
          });
      return [
        entry({
          name: 'progress GET while 20 uploads stream: p50',
          unit: 'ms',
          ours: loaded,
          peer: idle,
          peerName: 'same GET, one slow upload',
          extra: { failedUploads: failed, polls: loaded.length },
        }),
        {
          ...entry({
            name: 'progress GET while 20 uploads stream: p99',
            unit: 'ms',
            ours: [percentile(loaded, 99)],
            peer: [percentile(idle, 99)],
            peerName: 'same GET, one slow upload',
            goal: { of: 'ours', op: '<=', value: 10 },
          }),
          spread: { ours: { n: loaded.length }, peer: { n: idle.length } },
        },
        entry({
          name: 'SSE event lag while 20 uploads stream: p50',
          unit: 'ms',
          ours: lags.length ? lags : [NaN],
          extra: { p99: Math.round(percentile(lags, 99) * 100) / 100, events: lags.length },
        }),
      ];
    } finally {
      await ours.stop();
    }
  },
};
