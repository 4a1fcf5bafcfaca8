import type { StorageDriver } from '../../storage';
import type { MediaMetadata } from '../media-metadata';
import { DERIVED_NAMES, type DerivedFiles } from '../processing-state';
import type { DeriveTools } from './derive-tools';
import type { ImageOutput } from './image-worker';
import type { WorkFolder } from './work-folder';

/** The upload to derive files from (its record's fields). */
export interface DeriveSource {
  userId: string;
  uploadId: string;
  storageKey: string;
  mimeType: string;
  kind: 'video' | 'photo';
  metadata?: MediaMetadata;
}

/** What a derivation step needs: the storage (read only: the original is never written), a folder, the tools. */
export interface DeriveContext {
  storage: StorageDriver;
  work: WorkFolder;
  tools: DeriveTools;
  signal: AbortSignal;
  /** How long a presigned tool input must stay valid: the whole job. */
  inputTtlSeconds: number;
}

/** A file made in the work folder, to be stored as one field of DerivedFiles. */
export interface MadeFile {
  field: keyof DerivedFiles;
  /** Its name in the work folder and under the upload's derived prefix. */
  name: string;
  mimeType: string;
  width?: number;
  height?: number;
}

/** The two WebP thumbnails, in this order, as image-worker outputs into `work`. */
export const THUMBNAILS = [
  { field: 'thumbnailSmall', name: DERIVED_NAMES.thumbnailSmall, maxSide: 250 },
  { field: 'thumbnailPreview', name: DERIVED_NAMES.thumbnailPreview, maxSide: 1440 },
] as const;
const THUMBNAIL_QUALITY = 80;

export function thumbnailOutputs(work: WorkFolder): ImageOutput[] {
  return THUMBNAILS.map(({ name, maxSide }) => ({
    path: work.path(name),
    format: 'webp',
    quality: THUMBNAIL_QUALITY,
    maxSide,
  }));
}

/** The thumbnails as made files, given the sizes the worker reported for them. */
export function thumbnailFiles(sizes: { width: number; height: number }[]): MadeFile[] {
  return THUMBNAILS.map(({ field, name }, i) => ({ field, name, mimeType: 'image/webp', ...sizes[i] }));
}
