'use strict';
/* global performance */
/**
 * 7. Auth overhead: login time (argon2id verify with the configured cost) against argon2.verify alone in this
 * process, and the latency of a guarded cheap route (GET /api/auth/me) under autocannon against the raw Node
 * server's trivial GET (the floor of an HTTP round trip here).
 */
const autocannon = require('autocannon');
const argon2 = require('argon2');
const { request, registerUser } = require('../lib/client');
const { alternate, entry } = require('../lib/entry');

const LOGINS = 10;
const DURATION_S = 5;

function cannon(url, headers) {
  return autocannon({ url, headers, connections: 10, duration: DURATION_S });
}

module.exports = {
  name: 'auth',
  async run(ctx) {
    const ours = await ctx.startOurs();
    const raw = await ctx.startPeer('raw-pipe');
    try {
      const user = await registerUser(ours.base);
      // Same parameters as the service's defaults (ARGON2_MEMORY_KIB 19456, ARGON2_TIME_COST 2, parallelism 1).
      const hash = await argon2.hash(user.password, {
        type: argon2.argon2id,
        memoryCost: 19456,
        timeCost: 2,
        parallelism: 1,
      });
      const samples = await alternate(
        LOGINS,
        {
          login: async () => {
            const res = await request(`${ours.base}/api/auth/login`, {
              method: 'POST',
              json: { login: user.username, password: user.password },
            });
            if (res.status !== 200) throw new Error(`login answered ${res.status}`);
            return res.ms;
          },
          verify: async () => {
            const t0 = performance.now();
            await argon2.verify(hash, user.password);
            return performance.now() - t0;
          },
        },
        ctx.log,
      );
      const me = await cannon(`${ours.base}/api/auth/me`, user.auth);
      const floor = await cannon(`${raw.base}/`);
      if (me.non2xx) throw new Error(`GET /api/auth/me: ${me.non2xx} non-2xx answers`);
      return [
        entry({
          name: 'auth: login (argon2id 19 MiB, t=2)',
          unit: 'ms',
          ours: samples.login,
          peer: samples.verify,
          peerName: 'argon2.verify alone',
        }),
        entry({
          name: 'auth: guarded GET /api/auth/me p50 (10 connections)',
          unit: 'ms',
          ours: [me.latency.p50],
          peer: [floor.latency.p50],
          peerName: 'raw Node GET',
          extra: {
            p99: me.latency.p99,
            requestsPerSecond: me.requests.average,
            rawP99: floor.latency.p99,
            rawRequestsPerSecond: floor.requests.average,
          },
        }),
      ];
    } finally {
      await Promise.all([ours.stop(), raw.stop()]);
    }
  },
};
