import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';

/** Seconds a refused client is told to wait: long enough for one of its uploads to move on. */
const RETRY_AFTER_SECONDS = 5;

export function tooManyConcurrentUploads(limit: number): ApiError {
  return new ApiError(
    HttpStatus.TOO_MANY_REQUESTS,
    ErrorCode.TOO_MANY_CONCURRENT_UPLOADS,
    `You already have ${limit} uploads streaming; retry when one has finished`,
    { limit, retryAfter: RETRY_AFTER_SECONDS },
  );
}

export function uploadTooSlow(minBytesPerSecond: number, windowSeconds: number): ApiError {
  return new ApiError(
    HttpStatus.REQUEST_TIMEOUT,
    ErrorCode.UPLOAD_TOO_SLOW,
    `The upload body arrived slower than ${minBytesPerSecond} bytes/s over ${windowSeconds} s; the request was ended`,
    { minBytesPerSecond, windowSeconds },
  );
}
