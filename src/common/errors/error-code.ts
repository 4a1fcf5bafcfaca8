import { HttpStatus } from '@nestjs/common';

/** Stable machine-readable codes for the `error` field of every error body. */
export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_JSON: 'INVALID_JSON',
  UNAUTHORIZED: 'UNAUTHORIZED',
  TOKEN_MISSING: 'TOKEN_MISSING',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_INVALID: 'TOKEN_INVALID',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  /** 409: a thumbnail, poster or rendition asked for while the upload's processing is pending or running; retry later. */
  DERIVED_NOT_READY: 'DERIVED_NOT_READY',
  /** 409: processing asked to run again while it is still pending or running. */
  PROCESSING_IN_PROGRESS: 'PROCESSING_IN_PROGRESS',
  CONFLICT: 'CONFLICT',
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNPROCESSABLE_ENTITY: 'UNPROCESSABLE_ENTITY',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  /** 429: the user already streams MAX_CONCURRENT_UPLOADS_PER_USER upload bodies on this instance. */
  TOO_MANY_CONCURRENT_UPLOADS: 'TOO_MANY_CONCURRENT_UPLOADS',
  /** 408: an upload body arrived slower than UPLOAD_MIN_BYTES_PER_SECOND; the request was ended. */
  UPLOAD_TOO_SLOW: 'UPLOAD_TOO_SLOW',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** 503: another request of the same upload holds it (or this instance lost its lock mid-request); retry. */
  UPLOAD_BUSY: 'UPLOAD_BUSY',
  /** 503: the object storage (S3) failed or could not be reached; nothing was kept; try again later. */
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  INSUFFICIENT_STORAGE: 'INSUFFICIENT_STORAGE',
  /** 501: the configured storage driver does not offer this yet (chunked uploads with STORAGE_DRIVER=s3). */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  /** 410: the upload ended (cancelled, failed, expired); it can no longer be resumed. */
  UPLOAD_GONE: 'UPLOAD_GONE',
  /** The upload was cancelled while this request was writing it: 410 (tus, IETF draft); 409 on POST /api/upload/media. */
  UPLOAD_CANCELLED: 'UPLOAD_CANCELLED',
  /** 422: the stored file does not match the digest the client sent for it. */
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  /** The upload is complete: 409 from the cancel route; 400 to an IETF-draft append (problem type completed-upload). */
  UPLOAD_COMPLETED: 'UPLOAD_COMPLETED',
  /** 409: `Upload-Offset` is not the upload's offset (tus; the IETF draft adds problem type mismatching-upload-offset). */
  UPLOAD_OFFSET_CONFLICT: 'UPLOAD_OFFSET_CONFLICT',
  /** 400 (IETF draft, problem type inconsistent-upload-length): the indicated lengths disagree. */
  INCONSISTENT_UPLOAD_LENGTH: 'INCONSISTENT_UPLOAD_LENGTH',
  /** 400: an `Upload-Draft-Interop-Version` other than 8 (the IETF draft routes speak version 8 only). */
  UNSUPPORTED_INTEROP_VERSION: 'UNSUPPORTED_INTEROP_VERSION',
  /** 409: a newer request to the same upload took over from this one (IETF draft); its stored bytes are kept. */
  UPLOAD_SUPERSEDED: 'UPLOAD_SUPERSEDED',
  /** 400 (IETF draft): an append that does not complete its upload declares fewer bytes than `min-append-size`. */
  APPEND_TOO_SMALL: 'APPEND_TOO_SMALL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const BY_STATUS: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCode.BAD_REQUEST,
  [HttpStatus.UNAUTHORIZED]: ErrorCode.UNAUTHORIZED,
  [HttpStatus.FORBIDDEN]: ErrorCode.FORBIDDEN,
  [HttpStatus.NOT_FOUND]: ErrorCode.NOT_FOUND,
  [HttpStatus.CONFLICT]: ErrorCode.CONFLICT,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.PAYLOAD_TOO_LARGE,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  [HttpStatus.UNPROCESSABLE_ENTITY]: ErrorCode.UNPROCESSABLE_ENTITY,
  [HttpStatus.TOO_MANY_REQUESTS]: ErrorCode.TOO_MANY_REQUESTS,
  [HttpStatus.SERVICE_UNAVAILABLE]: ErrorCode.SERVICE_UNAVAILABLE,
  [HttpStatus.INSUFFICIENT_STORAGE]: ErrorCode.INSUFFICIENT_STORAGE,
};

/** The default code for a status when the thrower named none. */
export function errorCodeForStatus(status: number): string {
  return BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : `HTTP_${status}`);
}
