import { execFile } from 'node:child_process';
import { access, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProgressLog, withBuildProgress } from '../logging';
import { PATCH_LEVEL, patchFerretDbSource } from './ferretdb-source-patches';

const run = promisify(execFile);

/** The last FerretDB line with the embedded SQLite backend (v2 needs PostgreSQL with DocumentDB). */
export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';

/** The build's folder inside the project-owned cache: one per version and patch level. */
function buildRoot(cacheDir: string): string {
  return join(cacheDir, `ferretdb-${FERRETDB_VERSION}-${PATCH_LEVEL}`);
}

/** Where the binary lives inside the project-owned cache folder. */
export function ferretDbBinaryPath(cacheDir: string): string {
  return join(buildRoot(cacheDir), 'bin', 'ferretdb');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Builds FerretDB from the Go module proxy into `cacheDir`, once.
 *
 * `go install …@<version>` cannot be used: it asks the proxy for the module's version list to check for
 * deprecation, and the proxy refuses that list. The module zip itself downloads fine, but its
 * `build/version/version.txt` is generated at release time and absent, so the source is copied to a
 * writable folder, the version file written, the source patches applied (ferretdb-source-patches.ts), and the
 * command built from there.
 */
export async function ensureFerretDb(cacheDir: string, log: ProgressLog): Promise<string> {
  const binary = ferretDbBinaryPath(cacheDir);
  if (await exists(binary)) return binary;
  const root = buildRoot(cacheDir);
  await withBuildProgress(
    { what: `FerretDB ${FERRETDB_VERSION}`, expected: 'usually 1-3 min on 2 cores', log },
    async (setPhase) => {
      setPhase('downloading the module', `${FERRETDB_MODULE}@${FERRETDB_VERSION} from the Go module proxy`);
      await mkdir(root, { recursive: true });
      const { stdout } = await run(
        'go',
        ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`],
        { maxBuffer: 1 << 20 },
      );
      const source = join(root, 'src');
      await prepareSource((JSON.parse(stdout) as { Dir: string }).Dir, source);
      setPhase('compiling', `go build into ${root}; it fetches dependencies first when they are not cached`);
      // Build to a temporary name and rename, so a concurrent or interrupted build never leaves a half-written
      // binary.
      const partial = `${binary}.${process.pid}.partial`;
      await mkdir(join(root, 'bin'), { recursive: true });
      await run('go', ['build', '-trimpath', '-o', partial, './cmd/ferretdb'], {
        cwd: source,
        env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
        maxBuffer: 16 << 20,
      });
      await rename(partial, binary);
      await rm(source, { recursive: true, force: true });
    },
  );
  return binary;
}

/** A writable copy of the module with the release-time version file and the source patches. */
async function prepareSource(moduleDir: string, source: string): Promise<void> {
  await rm(source, { recursive: true, force: true });
  await cp(moduleDir, source, { recursive: true });
  await run('chmod', ['-R', 'u+w', source]);
  await writeFile(join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
  await patchFerretDbSource(source);
}

/** True when a Go toolchain is on PATH. */
export async function hasGoToolchain(): Promise<boolean> {
  return run('go', ['version']).then(
    () => true,
    () => false,
  );
}
