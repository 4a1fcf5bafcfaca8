import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface SourcePatch {
  file: string;
  from: string;
  to: string;
}

/**
 * Edits applied to FerretDB's source before it is built. Bump PATCH_LEVEL with any change here: it names the
 * cache folder, so a binary built without the edits is never reused.
 */
export const PATCH_LEVEL = 'p1';

const PATCHES: SourcePatch[] = [
  {
    // FerretDB v1's SQLite backend looks documents up by `_id` through the expression `->'$._id'`, but creates its
    // unique _id index on `->"_id"`. SQLite matches expression indexes by their text, so the index was never used:
    // every lookup, update and delete by _id scanned the whole collection, and an upload's writes grew slower with
    // each record (the 1 000-abort soak). Both expressions read the same field; the lookup now uses the index's.
    file: 'internal/backends/sqlite/metadata/metadata.go',
    from: `IDColumn = DefaultColumn + "->'$._id'"`,
    to: 'IDColumn = DefaultColumn + `->"_id"`',
  },
];

/** Applies every patch to the source tree at `sourceDir`; throws if the source does not read as expected. */
export async function patchFerretDbSource(sourceDir: string): Promise<void> {
  for (const patch of PATCHES) {
    const path = join(sourceDir, patch.file);
    const text = await readFile(path, 'utf8');
    if (!text.includes(patch.from)) throw new Error(`FerretDB source patch does not apply to ${patch.file}`);
    await writeFile(path, text.replace(patch.from, patch.to));
  }
}
