import { isSafeSegment, UnsafePathError } from './safe-path';

/** The six areas of the storage (see docs/architecture.md, "Storage"); every key starts with one. */
export type StorageArea = 'tmp' | 'chunks' | 'tus' | 'ietf' | 'media' | 'derived';
export const STORAGE_AREAS: readonly StorageArea[] = ['tmp', 'chunks', 'tus', 'ietf', 'media', 'derived'];

/**
 * The segments of a storage key (`media/<userId>/<uploadId>.<ext>`), or UnsafePathError. A key is relative,
 * `/`-separated, starts with an area, and every further segment passes `isSafeSegment` (no `..`, no `\`, no NUL, no
 * empty segment), so no key can name anything outside its area, on disk or in a bucket.
 */
export function keySegments(key: string): string[] {
  const segments = key.split('/');
  const [area, ...rest] = segments;
  if (!STORAGE_AREAS.includes(area as StorageArea)) {
    throw new UnsafePathError(`storage key outside the storage areas: ${JSON.stringify(key)}`);
  }
  for (const segment of rest) {
    if (!isSafeSegment(segment)) throw new UnsafePathError(`unsafe storage key: ${JSON.stringify(key)}`);
  }
  return segments;
}

/** Builds a key from an area and server-generated segments, checking each one. */
export function storageKey(area: StorageArea, ...segments: string[]): string {
  const key = [area, ...segments].join('/');
  keySegments(key);
  return key;
}

/** The key of a finished file: `media/<userId>/<uploadId>.<ext>` (stored on the record as `storageKey`). */
export function mediaKey(userId: string, uploadId: string, ext: string): string {
  return storageKey('media', userId, `${uploadId}.${ext}`);
}

/** Where an upload's derived files live (thumbnails, poster, rendition): `derived/<userId>/<uploadId>`. */
export function derivedPrefix(userId: string, uploadId: string): string {
  return storageKey('derived', userId, uploadId);
}

/** One derived file of an upload: `derived/<userId>/<uploadId>/<name>`. */
export function derivedKey(userId: string, uploadId: string, name: string): string {
  return storageKey('derived', userId, uploadId, name);
}
