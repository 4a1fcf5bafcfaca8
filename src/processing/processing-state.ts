/** Where the background work on a finished upload (thumbnails, poster, playable rendition) stands. */
export const PROCESSING_STATUSES = ['pending', 'running', 'done', 'failed'] as const;
export type ProcessingStatus = (typeof PROCESSING_STATUSES)[number];

/** Stored on the media record as `processing` from the moment the upload completes. */
export interface ProcessingState {
  status: ProcessingStatus;
  /** Why the last attempt failed (kept while a retry is pending, cleared when one succeeds). */
  error?: string;
  /** Attempts started so far. */
  attempts: number;
  updatedAt: Date;
}

/** One file derived from an upload, stored under `derived/<user>/<upload>/`; never replaces the original. */
export interface DerivedFile {
  key: string;
  mimeType: string;
  size: number;
  /** Strong validator for the routes that serve it (a hash of the bytes). */
  etag: string;
  width?: number;
  height?: number;
}

/** Which derived files an upload has; a missing field was not made (or is not made for this kind of file). */
export interface DerivedFiles {
  /** WebP, ~250 px on the longest side, upright. */
  thumbnailSmall?: DerivedFile;
  /** WebP, ~1440 px on the longest side, never enlarged, upright. */
  thumbnailPreview?: DerivedFile;
  /** A video's poster frame (JPEG, full size, upright). */
  poster?: DerivedFile;
  /**
   * A version every browser can show when the original is not one: a JPEG of a HEIC/HEIF photo, an MP4/MOV
   * remuxed with `moov` first (faststart), a MediaRecorder WebM remuxed with its duration and cues.
   */
  rendition?: DerivedFile;
}

/** The names derived files are stored under, inside `derived/<user>/<upload>/`. */
export const DERIVED_NAMES = {
  thumbnailSmall: 'thumbnail-small.webp',
  thumbnailPreview: 'thumbnail-preview.webp',
  poster: 'poster.jpg',
} as const;

/** A job: process this finished upload (the runner reads everything else from its record). */
export interface ProcessingJob {
  userId: string;
  uploadId: string;
}
