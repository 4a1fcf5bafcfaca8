'use strict';
/* global setTimeout, clearTimeout, performance, Buffer */
/**
 * A TCP proxy on 127.0.0.1 that makes loopback behave like one long link (docs/benchmarks.md, "Issue 15: parallel tus
 * uploads"). Each direction of each connection is a small TCP model:
 *
 * - every segment reaches the other side `oneWayMs` after it was sent (propagation delay);
 * - at most `windowBytes` may be in flight (sent, not yet acknowledged); a segment's acknowledgement arrives one
 *   round trip (2 × oneWayMs) after it was sent, and only then may that many more bytes go out;
 * - what the sender has written beyond the window waits in a send buffer; past `sendBufferBytes` the proxy stops
 *   reading from the sender, so backpressure reaches the client as it would over a real socket.
 *
 * One connection therefore carries at most windowBytes per round trip (256 KiB / 50 ms ≈ 5 MiB/s), however fast
 * the machine is; parallel connections each get their own window. Slow start, loss and shared bottlenecks are not
 * modelled: the window is fixed from the first byte.
 */
const http = require('node:http');
const net = require('node:net');

const KiB = 1024;

/** One direction of one connection: bytes read from `from` reach `to` through the delayed, windowed link. */
function windowedLink(from, to, { oneWayMs, windowBytes, sendBufferBytes }, counters) {
  const waiting = []; // the send buffer: Buffers read from `from`, not yet sent
  let waitingBytes = 0;
  let inFlight = 0;
  let pendingDeliveries = 0;
  let ended = false;
  const timers = new Set();
  const later = (ms, fn) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const finishIfDone = () => {
    if (ended && waitingBytes === 0 && pendingDeliveries === 0 && !to.destroyed) to.end();
  };

  const transmit = () => {
    while (waitingBytes > 0 && inFlight < windowBytes) {
      const head = waiting[0];
      const n = Math.min(head.length, windowBytes - inFlight);
      const segment = n === head.length ? waiting.shift() : head.subarray(0, n);
      if (n < head.length) waiting[0] = head.subarray(n);
      waitingBytes -= n;
      if (inFlight === 0) counters.busy?.(1);
      inFlight += n;
      pendingDeliveries++;
      later(oneWayMs, () => {
        pendingDeliveries--;
        if (!to.destroyed) to.write(segment);
        counters.bytes += n;
        finishIfDone();
      });
      later(2 * oneWayMs, () => {
        inFlight -= n;
        if (inFlight === 0) counters.busy?.(-1);
        transmit();
      });
    }
    if (waitingBytes < sendBufferBytes && from.isPaused() && !ended) from.resume();
  };

  from.on('data', (buf) => {
    waiting.push(buf);
    waitingBytes += buf.length;
    if (waitingBytes >= sendBufferBytes) from.pause();
    transmit();
  });
  from.on('end', () => {
    ended = true;
    finishIfDone();
  });
  return () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
}

/**
 * Starts the proxy in front of `target` (`{ host, port }`). Resolves `{ base, connections(), takePeakBusy(),
 * bytesUp(), close() }`: `connections()` counts the client connections accepted so far, `bytesUp()` the bytes
 * delivered to the target.
 */
function startDelayProxy({ target, oneWayMs = 25, windowBytes = 256 * KiB, sendBufferBytes = 256 * KiB }) {
  const options = { oneWayMs, windowBytes, sendBufferBytes };
  // `busy`: client connections with request bytes in flight now, and the most there were at once.
  let busy = 0;
  let peakBusy = 0;
  const up = {
    bytes: 0,
    busy: (delta) => {
      busy += delta;
      peakBusy = Math.max(peakBusy, busy);
    },
  };
  const down = { bytes: 0 };
  const sockets = new Set();
  const stops = new Set();
  let accepted = 0;
  // Half-open allowed: an end is passed on only after the data still on the link (windowedLink's finishIfDone).
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    const stopUp = windowedLink(client, upstream, options, up);
    const stopDown = windowedLink(upstream, client, options, down);
    const stop = () => {
      stopUp();
      stopDown();
      stops.delete(stop);
    };
    stops.add(stop);
    const teardown = () => {
      stop();
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    // A side that is gone takes the other with it once what was already on the link has arrived.
    client.on('close', () => setTimeout(() => upstream.destroy(), 2 * oneWayMs).unref());
    upstream.on('close', () => setTimeout(() => client.destroy(), 2 * oneWayMs).unref());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        base: `http://127.0.0.1:${port}`,
        connections: () => accepted,
        /** The most connections that carried request bytes at the same time since the last call. */
        takePeakBusy: () => {
          const peak = peakBusy;
          peakBusy = busy;
          return peak;
        },
        bytesUp: () => up.bytes,
        close: () =>
          new Promise((done) => {
            for (const stop of [...stops]) stop();
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * What the link really carries (MB/s), measured through a proxy in front of a bare Node HTTP sink: `bytes` on one
 * connection, then `bytes` on each of `parallel` at once. Shows the model works before the service is measured.
 */
async function calibrateLink(link, { bytes = 10 * 1024 * 1024, parallel = 4 } = {}) {
  const sink = http.createServer((req, res) => req.resume().on('end', () => res.end()));
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const proxy = await startDelayProxy({ target: { host: '127.0.0.1', port: sink.address().port }, ...link });
  const agent = new http.Agent({ keepAlive: false });
  const block = Buffer.alloc(1024 * 1024);
  const send = () =>
    new Promise((resolve, reject) => {
      const req = http.request(`${proxy.base}/`, {
        method: 'POST',
        agent,
        headers: { 'content-length': bytes },
      });
      req.setTimeout(120_000, () => req.destroy(new Error('calibration request timed out')));
      req.on('response', (res) => res.resume().on('end', resolve));
      req.on('error', reject);
      (async () => {
        for (let sent = 0; sent < bytes; sent += block.length) {
          if (!req.write(block.subarray(0, Math.min(block.length, bytes - sent))))
            await new Promise((drained) => req.once('drain', drained));
        }
        req.end();
      })().catch(reject);
    });
  const rate = async (count) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: count }, send));
    return Math.round(((count * bytes) / 1e6 / ((performance.now() - started) / 1000)) * 100) / 100;
  };
  try {
    return { oneConnectionMBps: await rate(1), [`connections${parallel}MBps`]: await rate(parallel) };
  } finally {
    agent.destroy();
    await proxy.close();
    await new Promise((resolve) => sink.close(resolve));
  }
}

module.exports = { startDelayProxy, calibrateLink };
