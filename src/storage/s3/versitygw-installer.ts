import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ProgressLog, withBuildProgress } from '../../logging';

const run = promisify(execFile);

/** versitygw (Apache-2.0), an S3 gateway whose posix backend keeps objects as plain files. */
export const VERSITYGW_MODULE = 'github.com/versity/versitygw';
export const VERSITYGW_VERSION = 'v1.8.0';

function buildRoot(cacheDir: string): string {
  return join(cacheDir, `versitygw-${VERSITYGW_VERSION}`);
}

/** Where the binary lives inside the project-owned cache folder (the same one FerretDB is built into). */
export function versitygwBinaryPath(cacheDir: string): string {
  return join(buildRoot(cacheDir), 'bin', 'versitygw');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Builds in progress in this process: parallel callers share one. */
const building = new Map<string, Promise<string>>();

/**
 * Builds versitygw from the Go module proxy into `cacheDir`, once (a few minutes of CPU on 2 cores), and resolves
 * with the binary's path. Another process building it at the same time (parallel Jest workers, cluster
 * instances) is waited for rather than duplicated.
 *
 * Built through a one-line wrapper module rather than `go install …@version`, for the same reason as
 * FerretDB and tusd: `go install` asks the proxy for the version list, which this proxy may refuse.
 */
export function ensureVersitygw(cacheDir: string, log: ProgressLog): Promise<string> {
  const binary = versitygwBinaryPath(cacheDir);
  let pending = building.get(binary);
  if (!pending) {
    pending = buildOnce(buildRoot(cacheDir), binary, log).finally(() => building.delete(binary));
    building.set(binary, pending);
  }
  return pending;
}

async function buildOnce(root: string, binary: string, log: ProgressLog): Promise<string> {
  const lock = join(root, 'build.lock');
  await mkdir(root, { recursive: true });
  for (let waited = false; ; waited = true) {
    if (await exists(binary)) return binary;
    if (await takeLock(lock)) break;
    if (!waited)
      log(`Waiting for another process that is building versitygw ${VERSITYGW_VERSION} into ${root}`);
    await sleep(1000);
  }
  try {
    if (!(await exists(binary))) await build(root, binary, log);
    return binary;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** `mkdir` is atomic: one process wins. A lock left by a process that died is taken over. */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    await writeFile(join(lock, 'pid'), String(process.pid));
    return true;
  } catch {
    const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
    if (holder > 0 && !isAlive(holder)) await rm(lock, { recursive: true, force: true });
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function build(root: string, binary: string, log: ProgressLog): Promise<void> {
  await withBuildProgress(
    { what: `versitygw ${VERSITYGW_VERSION}`, expected: 'usually 1-4 min on 2 cores', log },
    async (setPhase) => {
      const work = join(root, `wrapper.${process.pid}`);
      await mkdir(work, { recursive: true });
      await mkdir(join(root, 'bin'), { recursive: true });
      await writeFile(
        join(work, 'go.mod'),
        `module versitygwbuild\n\ngo 1.25\n\nrequire ${VERSITYGW_MODULE} ${VERSITYGW_VERSION}\n`,
      );
      setPhase('compiling', `go build into ${root}; it downloads the module and its dependencies first`);
      // A temporary name and a rename: an interrupted build never leaves a half-written binary.
      const partial = `${binary}.${process.pid}.partial`;
      try {
        await run(
          'go',
          [
            'build',
            '-trimpath',
            '-ldflags',
            `-s -w -X main.Version=${VERSITYGW_VERSION}`,
            '-o',
            partial,
            `${VERSITYGW_MODULE}/cmd/versitygw`,
          ],
          {
            cwd: work,
            env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
            maxBuffer: 16 << 20,
          },
        );
        await rename(partial, binary);
      } finally {
        await rm(work, { recursive: true, force: true });
        await rm(partial, { force: true });
      }
    },
  );
}
