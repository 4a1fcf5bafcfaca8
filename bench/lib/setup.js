'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync, renameSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT, BENCH_CACHE } = require('./servers');

/** The tusd release compared against. */
const TUSD_VERSION = 'v2.8.0';

/**
 * Builds the service as shipped (nest build, with the swagger plugin) into .cache/bench/dist, its own output
 * folder, so a rebuild of dist/ by anyone else during the run cannot pull files from under a running scenario.
 * Returns that folder.
 */
function ensureBuild(log) {
  const out = join(BENCH_CACHE, 'dist');
  log('building the service into .cache/bench/dist (nest build)…');
  execFileSync('npx', ['nest', 'build', '--path', 'bench/tsconfig.bench.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (!existsSync(join(out, 'main.js'))) throw new Error(`nest build produced no ${join(out, 'main.js')}`);
  return out;
}

/**
 * Builds tusd into .cache/bench/bin once. `go install …@version` cannot be used here: it asks the module proxy
 * for the module's version list (deprecation check), which the proxy refuses, so a wrapper module requires tusd
 * and `go build` builds its command.
 */
function ensureTusd(log) {
  const binary = join(BENCH_CACHE, 'bin', 'tusd');
  if (existsSync(binary)) return binary;
  log(`building tusd ${TUSD_VERSION} from the Go module proxy into ${binary} (first run only, ~1-2 min)…`);
  const work = join(BENCH_CACHE, 'tusd-build');
  mkdirSync(work, { recursive: true });
  mkdirSync(join(BENCH_CACHE, 'bin'), { recursive: true });
  writeFileSync(
    join(work, 'go.mod'),
    `module benchtusd\n\ngo 1.23\n\nrequire github.com/tus/tusd/v2 ${TUSD_VERSION}\n`,
  );
  const partial = `${binary}.${process.pid}.partial`;
  execFileSync('go', ['build', '-trimpath', '-o', partial, 'github.com/tus/tusd/v2/cmd/tusd'], {
    cwd: work,
    env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    stdio: 'inherit',
  });
  renameSync(partial, binary);
  return binary;
}

module.exports = { ensureBuild, ensureTusd, TUSD_VERSION };
