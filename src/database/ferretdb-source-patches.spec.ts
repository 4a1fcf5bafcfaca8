import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { patchFerretDbSource } from './ferretdb-source-patches';

const METADATA = 'internal/backends/sqlite/metadata/metadata.go';

describe('patchFerretDbSource', () => {
  let source: string;

  beforeEach(async () => {
    source = await mkdtemp(join(tmpdir(), 'ferretdb-src-'));
    await mkdir(dirname(join(source, METADATA)), { recursive: true });
  });
  afterEach(() => rm(source, { recursive: true, force: true }));

  it("makes _id lookups use the expression of FerretDB's _id index", async () => {
    await writeFile(
      join(source, METADATA),
      `const (\n\tDefaultColumn = backends.ReservedPrefix + "sjson"\n\tIDColumn = DefaultColumn + "->'$._id'"\n)\n`,
    );
    await patchFerretDbSource(source);
    const patched = await readFile(join(source, METADATA), 'utf8');
    expect(patched).toContain('IDColumn = DefaultColumn + `->"_id"`');
    expect(patched).not.toContain(`'$._id'`);
  });

  it('refuses a source that does not read as expected', async () => {
    await writeFile(join(source, METADATA), 'IDColumn = DefaultColumn + "->\'$.id\'"\n');
    await expect(patchFerretDbSource(source)).rejects.toThrow(/does not apply/);
  });
});
