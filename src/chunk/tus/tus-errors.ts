import { HttpException, HttpStatus } from '@nestjs/common';
import { ERRORS } from '@tus/utils';
import { isDatabaseUnavailableError } from '../../common/errors/database-errors';
import { ErrorCode, errorCodeForStatus } from '../../common/errors/error-code';
import { UploadCancelledError } from '../../progress';
import { isDiskFullError } from '../../storage';
import { TusProtocolError } from './tus-checksum';

/** The shape of @tus/server's own errors (plain objects in `ERRORS`). */
interface TusLibraryError {
  status_code: number;
  body: string;
}

/** Stable codes for @tus/server's own errors, keyed by the error object it throws. */
const TUS_CODES = new Map<TusLibraryError, string>([
  [ERRORS.MISSING_OFFSET, 'UPLOAD_OFFSET_REQUIRED'],
  [ERRORS.INVALID_CONTENT_TYPE, 'INVALID_CONTENT_TYPE'],
  [ERRORS.INVALID_OFFSET, 'UPLOAD_OFFSET_CONFLICT'],
  [ERRORS.FILE_NOT_FOUND, ErrorCode.NOT_FOUND],
  [ERRORS.FILE_NO_LONGER_EXISTS, 'UPLOAD_GONE'],
  [ERRORS.ERR_SIZE_EXCEEDED, ErrorCode.PAYLOAD_TOO_LARGE],
  [ERRORS.ERR_MAX_SIZE_EXCEEDED, ErrorCode.PAYLOAD_TOO_LARGE],
  [ERRORS.INVALID_LENGTH, 'INVALID_UPLOAD_LENGTH'],
  [ERRORS.INVALID_METADATA, 'INVALID_METADATA'],
  [ERRORS.INVALID_TERMINATION, ErrorCode.CONFLICT],
  [ERRORS.ABORTED, 'REQUEST_ABORTED'],
  [ERRORS.UNSUPPORTED_CONCATENATION_EXTENSION, 'NOT_IMPLEMENTED'],
]);

/** Thrown by a hook to end the request now with this status and headers: @tus/server hooks have no other way. */
export class TusEarlyAnswer extends Error {
  override name = 'TusEarlyAnswer';

  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
  ) {
    super(`answered ${status}`);
  }
}

export interface TusErrorBody {
  success: false;
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
  [detail: string]: unknown;
}

function isTusError(error: unknown): error is TusLibraryError {
  const candidate = error as Partial<TusLibraryError> | null;
  return typeof candidate?.status_code === 'number' && typeof candidate.body === 'string';
}

/**
 * The shared error body (`{success:false,statusCode,error,message,requestId}`) for whatever a tus request
 * failed with: our ApiErrors, @tus/server's protocol errors, a cancel, or an unexpected error (details hidden;
 * `internal` tells the caller to log it).
 */
export function tusErrorBody(error: unknown, requestId: string): { body: TusErrorBody; internal: boolean } {
  const make = (statusCode: number, code: string, message: string, details: object = {}) => ({
    body: { success: false as const, statusCode, error: code, message, requestId, ...details },
    internal: false,
  });
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const payload = error.getResponse() as Record<string, unknown>;
    const { error: code, message, ...details } = typeof payload === 'object' ? payload : {};
    return make(
      status,
      typeof code === 'string' ? code : errorCodeForStatus(status),
      typeof message === 'string' ? message : error.message,
      details,
    );
  }
  if (error instanceof UploadCancelledError) {
    return make(HttpStatus.GONE, 'UPLOAD_CANCELLED', `The upload was cancelled: ${error.message}`);
  }
  if (isDiskFullError(error)) {
    return make(
      HttpStatus.INSUFFICIENT_STORAGE,
      ErrorCode.INSUFFICIENT_STORAGE,
      'The server is out of storage',
    );
  }
  if (isDatabaseUnavailableError(error)) {
    return {
      ...make(
        HttpStatus.SERVICE_UNAVAILABLE,
        ErrorCode.SERVICE_UNAVAILABLE,
        'The service is temporarily unavailable; try again later',
      ),
      internal: true,
    };
  }
  if (error instanceof TusProtocolError) return make(error.status_code, error.code, error.body);
  if (isTusError(error) && error.status_code < 500) {
    const code = TUS_CODES.get(error) ?? errorCodeForStatus(error.status_code);
    return make(error.status_code, code, error.body.trim());
  }
  return {
    ...make(HttpStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL_ERROR, 'Internal server error'),
    internal: true,
  };
}
