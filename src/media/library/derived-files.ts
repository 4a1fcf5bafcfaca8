import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { DerivedFile, DerivedFiles } from '../../processing';
import type { MediaRecord } from '../media-records.service';

/** The derived files a client can ask for, by their field in `DerivedFiles`. */
export type DerivedName = keyof DerivedFiles;

/** The routes that serve an upload's derived files. */
export function derivedUrl(uploadId: string, name: DerivedName): string {
  const base = `/api/media/${uploadId}`;
  switch (name) {
    case 'thumbnailSmall':
      return `${base}/thumbnail`;
    case 'thumbnailPreview':
      return `${base}/thumbnail?size=preview`;
    case 'poster':
      return `${base}/poster`;
    case 'rendition':
      return `${base}/rendition`;
  }
}

export interface DerivedUrls {
  thumbnailUrl: string | null;
  previewUrl: string | null;
  posterUrl: string | null;
  renditionUrl: string | null;
}

/** Whether processing may still make files (so a missing one is "not yet", not "never"). */
function inProgress(record: MediaRecord): boolean {
  return record.processing?.status === 'pending' || record.processing?.status === 'running';
}

/**
 * The derived-file links of a record, each null until its file exists. The rendition's is there as soon as processing
 * has settled: without a rendition of its own the route serves the original (it needed none, or processing failed).
 */
export function derivedUrls(record: MediaRecord): DerivedUrls {
  const { uploadId, derived } = record;
  const url = (name: DerivedName) => (derived?.[name] ? derivedUrl(uploadId, name) : null);
  const settled = record.status === 'completed' && !inProgress(record);
  return {
    thumbnailUrl: url('thumbnailSmall'),
    previewUrl: url('thumbnailPreview'),
    posterUrl: url('poster'),
    renditionUrl: derived?.rendition || settled ? derivedUrl(uploadId, 'rendition') : null,
  };
}

/**
 * Which file answers a request for a completed upload's derived file: the file, or 'original' for a rendition the
 * upload does not need. 409 `DERIVED_NOT_READY` while processing may still make it; 404 when it will never exist (a
 * photo's poster, a failed processing, a video without frames).
 */
export function chooseDerived(record: MediaRecord, name: DerivedName): DerivedFile | 'original' {
  const file = record.derived?.[name];
  if (file) return file;
  const neverMade = name === 'poster' && !record.mimeType?.startsWith('video/');
  if (!neverMade && inProgress(record)) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      ErrorCode.DERIVED_NOT_READY,
      `Upload ${record.uploadId} is still being processed; try again when processing.status is done`,
      { processing: record.processing?.status },
    );
  }
  if (name === 'rendition') return 'original';
  throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'This media has no such file');
}
