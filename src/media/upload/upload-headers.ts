import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { UPLOAD_ID_PATTERN } from '../../common/uploads/upload-status';
import { boundaryOf } from './body-framing';
import { MULTIPART_OVERHEAD_BYTES } from './multipart-limits';
import { tooLarge } from './upload-errors';

/** What the request's headers say, checked before a byte of the body is read. */
export interface UploadHeaders {
  uploadId?: string;
  declaredLength: number | null;
  boundary?: string;
  sha256?: string;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Reads and checks the headers of POST /api/upload/media: 400 for a malformed one, 413 for a body too long. */
export function readUploadHeaders(req: Request, maxBytes: number): UploadHeaders {
  const uploadId = req.headers['x-upload-id'];
  if (uploadId !== undefined && (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId))) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      ErrorCode.BAD_REQUEST,
      'X-Upload-Id must be 8-64 characters of A-Z a-z 0-9 _ -',
    );
  }
  const sha256 = req.headers['x-content-sha256'];
  if (sha256 !== undefined && (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256))) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      ErrorCode.BAD_REQUEST,
      'X-Content-SHA256 must be 64 hex digits',
    );
  }
  if (!req.is('multipart/form-data')) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_MULTIPART', 'Send the upload as multipart/form-data');
  }
  const length = req.headers['content-length'];
  const declaredLength = length === undefined ? null : Number(length);
  if (declaredLength !== null && declaredLength > maxBytes + MULTIPART_OVERHEAD_BYTES) {
    throw tooLarge(maxBytes);
  }
  return {
    uploadId,
    declaredLength,
    boundary: boundaryOf(req.headers['content-type']),
    sha256: sha256?.toLowerCase(),
  };
}
