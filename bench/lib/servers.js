'use strict';
/* global setTimeout, clearTimeout */
const { spawn } = require('node:child_process');
const net = require('node:net');
const { mkdtempSync, mkdirSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { request, sleep } = require('./client');

const ROOT = resolve(__dirname, '..', '..');
const BENCH_CACHE = join(ROOT, '.cache', 'bench');
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

function freePort() {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function waitForHttp(url, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    const ok = await request(url, { timeoutMs: 2000 }).then(
      (res) => res.status < 500,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${url}: not ready after ${timeoutMs} ms`);
}

/** A server process of the run; `stop()` ends it (SIGTERM, SIGKILL after 5 s) and removes its temp folder. */
async function launch({ name, command, args, env, readyPath = '/', dir }) {
  const port = await freePort();
  const child = spawn(command, args(port), {
    cwd: ROOT,
    env: { ...process.env, ...env?.(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr = (stderr + s).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}${readyPath}`, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${error.message}\n${stderr}`);
  }
  return {
    name,
    base,
    pid: child.pid,
    dir,
    stderr: () => stderr,
    stop: () =>
      new Promise((done) => {
        const cleanup = () => {
          rmSync(dir, { recursive: true, force: true });
          done();
        };
        if (child.exitCode !== null || child.signalCode !== null) return cleanup();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          cleanup();
        });
        child.kill('SIGTERM');
      }),
  };
}

function tempDir(tag) {
  mkdirSync(join(BENCH_CACHE, 'run'), { recursive: true });
  return mkdtempSync(join(BENCH_CACHE, 'run', `${tag}-`));
}

let dbCounter = 0;

/**
 * Our service as shipped (`node dist/main.js`, run from the snapshot in .cache/bench/dist), in production mode, on its own database of the run's FerretDB and
 * its own upload folder. `profileDir` adds `--cpu-prof`. MAX_MEDIA_BYTES is raised only so the 1 GB
 * single-request scenario is allowed at all; the rate limits are lifted (see below). Nothing else is tuned.
 */
function startOurs(ctx, { env = {}, profileDir } = {}) {
  const dir = tempDir('ours');
  return launch({
    name: 'ours',
    command: process.execPath,
    args: () => [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      join(BENCH_CACHE, 'dist', 'main.js'),
    ],
    env: (port) => ({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      JWT_SECRET,
      MONGODB_URI: ctx.mongoUri,
      MONGODB_DB: `bench_${process.pid}_${++dbCounter}`,
      UPLOAD_DIR: dir,
      MAX_MEDIA_BYTES: String(1100 * 1024 * 1024),
      // The rate limits and the per-user cap on concurrent upload bodies would refuse the bench's own bursts (one
      // user, 50 uploads at once); they are a policy, not a cost, so they are lifted here. The limiters themselves
      // still run on every request.
      THROTTLE_AUTH_LIMIT: '100000',
      THROTTLE_UPLOAD_LIMIT: '100000',
      THROTTLE_CHUNK_LIMIT: '100000',
      MAX_CONCURRENT_UPLOADS_PER_USER: '1000',
      ...env,
    }),
    readyPath: '/api/health',
    dir,
  });
}

/** One of the Node peers in bench/peers/ (raw-pipe, multer-memory, tus-server). */
function startPeer(kind) {
  const dir = tempDir(kind);
  return launch({
    name: kind,
    command: process.execPath,
    args: (port) => [join(ROOT, 'bench', 'peers', `${kind}-server.js`), String(port), dir],
    dir,
  });
}

/** tusd, the Go reference tus server, with its file store and default settings. */
function startTusd() {
  const dir = tempDir('tusd');
  return launch({
    name: 'tusd',
    command: join(BENCH_CACHE, 'bin', 'tusd'),
    args: (port) => [
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-upload-dir',
      dir,
      '-base-path',
      '/files/',
      '-verbose=false',
    ],
    readyPath: '/files/',
    dir,
  });
}

module.exports = { ROOT, BENCH_CACHE, startOurs, startPeer, startTusd, freePort };
