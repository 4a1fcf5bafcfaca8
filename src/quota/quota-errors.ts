import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';

/** 413 `QUOTA_EXCEEDED`, with what the user holds and may hold, so a client can tell them what to delete. */
export function quotaExceeded(usedBytes: number, limitBytes: number, requestedBytes: number): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    'QUOTA_EXCEEDED',
    `This upload would exceed your storage quota of ${limitBytes} bytes (${usedBytes} used)`,
    { usedBytes, limitBytes, requestedBytes },
  );
}
