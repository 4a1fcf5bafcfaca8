'use strict';
/**
 * Benchmark runner: `npm run bench` runs every scenario, `npm run bench -- <scenario> [...]` some of them,
 * `--profile` also records a CPU profile of our server per scenario and prints its top self-time functions.
 * Loopback only, bounded request counts; prints a table and writes bench/results/latest.json.
 */
const { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');
const { execFileSync } = require('node:child_process');
const { ROOT, BENCH_CACHE, startOurs, startPeer, startTusd } = require('./lib/servers');
const { ensureBuild, ensureTusd, TUSD_VERSION } = require('./lib/setup');
const { loadAverage } = require('./lib/proc');
const { topSelfTime } = require('./lib/profile');

const SCENARIOS = [
  'single-upload',
  'tus-upload',
  'seed-chunks',
  'concurrency',
  'progress-load',
  'cancel',
  'auth',
  's3-upload',
  'processing',
  'parallel-uploads',
];
const RESULTS = join(ROOT, 'bench', 'results', 'latest.json');

const log = (message) => console.log(message);

function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown';
  let go = 'none';
  try {
    go = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // no Go toolchain
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    go,
    tusd: TUSD_VERSION,
    kernel: os.release(),
  };
}

function formatTable(rows) {
  const header = ['scenario', 'ours', 'peer', 'ratio', 'goal', 'met', 'spread ours [min..max]'];
  const lines = rows.map((r) => [
    r.name,
    r.ours === null ? 'n/a' : `${r.ours} ${r.unit}`,
    r.peer === null ? '—' : `${r.peer} (${r.peerName})`,
    r.ratio === null ? '—' : String(r.ratio),
    r.goal ?? '—',
    r.met === null ? '—' : r.met ? 'yes' : 'MISSED',
    r.spread?.ours?.min !== undefined
      ? `[${r.spread.ours.min}..${r.spread.ours.max}] n=${r.spread.ours.n}`
      : r.spread?.ours
        ? `n=${r.spread.ours.n}`
        : (r.error ?? ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(fmt)].join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const profile = args.includes('--profile');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !SCENARIOS.includes(w));
  if (unknown.length)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const selected = wanted.length ? wanted : SCENARIOS;

  const dist = ensureBuild(log);
  ensureTusd(log);
  mkdirSync(join(BENCH_CACHE, 'run'), { recursive: true });
  const { startEmbeddedMongoServer } = require(join(dist, 'database', 'embedded-mongo-server.js'));
  const dbDir = join(BENCH_CACHE, 'run', `db-${process.pid}`);
  const db = await startEmbeddedMongoServer({ dataDir: dbDir, cacheDir: join(ROOT, '.cache'), log });

  const previous = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : { scenarios: {} };
  const started = Date.now();
  const results = { ...previous, machine: machine(), scenarios: { ...(previous.scenarios ?? {}) } };
  try {
    for (const name of selected) {
      const scenario = require(`./scenarios/${name}`);
      const profileDir = profile ? join(BENCH_CACHE, 'profiles', name) : undefined;
      if (profileDir) {
        rmSync(profileDir, { recursive: true, force: true });
        mkdirSync(profileDir, { recursive: true });
      }
      const ctx = {
        mongoUri: db.uri,
        log,
        startOurs: (options = {}) => startOurs(ctx, { profileDir, ...options }),
        startPeer,
        startTusd,
      };
      log(`\n== ${name}`);
      const loadBefore = loadAverage();
      const t0 = Date.now();
      let rows;
      try {
        rows = await scenario.run(ctx);
      } catch (error) {
        log(`   FAILED: ${error.stack}`);
        rows = [
          {
            name,
            error: String(error.message ?? error),
            ours: null,
            peer: null,
            ratio: null,
            goal: null,
            met: false,
          },
        ];
      }
      const record = {
        ranAt: new Date().toISOString(),
        seconds: Math.round((Date.now() - t0) / 1000),
        loadAverage: { before: loadBefore, after: loadAverage() },
        entries: rows,
      };
      if (profileDir) {
        record.profile = topSelfTime(profileDir);
        log(
          `   top self time of our server:\n${record.profile.map((p) => `     ${p.pct}%  ${p.ms} ms  ${p.fn}`).join('\n')}`,
        );
      }
      results.scenarios[name] = record;
      log(formatTable(rows));
    }
  } finally {
    await db.stop();
    rmSync(dbDir, { recursive: true, force: true });
  }
  results.updatedAt = new Date().toISOString();
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  const all = SCENARIOS.flatMap((s) => results.scenarios[s]?.entries ?? []);
  log(
    `\n== all results (${Math.round((Date.now() - started) / 1000)} s this run; written to bench/results/latest.json)`,
  );
  log(formatTable(all));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
