import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { MulterError } from 'multer';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { UploadCancelledError } from '../../progress';
import { isDiskFullError } from '../../storage';
import { allowedExtensions, MediaCategory } from '../mime-sniffer';

/** Error codes that mean "the request itself was bad": such uploads leave no record behind at all. */
export const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  ErrorCode.BAD_REQUEST,
  ErrorCode.VALIDATION_FAILED,
  'INVALID_MULTIPART',
]);

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    ErrorCode.PAYLOAD_TOO_LARGE,
    `The file is larger than the limit of ${maxBytes} bytes`,
    { maxBytes },
  );
}

export function unsupportedType(category: MediaCategory | undefined, reason?: string): ApiError {
  const allowed = allowedExtensions(category ?? 'camera');
  const what = category ? `a ${category} upload` : 'an upload';
  return new ApiError(
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    `The file content is not allowed for ${what} (allowed: ${allowed})${reason ? `: ${reason}` : ''}`,
    { allowed: allowed.split(', ') },
  );
}

/** The file does not match the request's X-Content-SHA256. */
export function checksumMismatch(expected: string, actual: string): ApiError {
  return new ApiError(
    HttpStatus.UNPROCESSABLE_ENTITY,
    'CHECKSUM_MISMATCH',
    'The file does not match X-Content-SHA256; nothing was kept',
    { expected, actual },
  );
}

export function badMultipart(message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_MULTIPART', message);
}

export function cancelled(reason: string): ApiError {
  return new ApiError(HttpStatus.CONFLICT, 'UPLOAD_CANCELLED', `The upload was cancelled: ${reason}`);
}

export function clientDisconnected(): ApiError {
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    'CLIENT_DISCONNECTED',
    'The client disconnected before the upload finished',
  );
}

function bodyCutShort(req: Request): boolean {
  return !req.complete && (req.destroyed || req.socket.destroyed);
}

/** Maps whatever stopped an upload to the error the client gets (and the reason its records keep). */
export function toUploadError(error: unknown, req: Request, maxBytes: number): Error {
  if (error instanceof ApiError) return error;
  if (error instanceof UploadCancelledError) return cancelled(error.message);
  if (isDiskFullError(error)) {
    return new ApiError(
      HttpStatus.INSUFFICIENT_STORAGE,
      ErrorCode.INSUFFICIENT_STORAGE,
      'The server is out of storage; try again later',
    );
  }
  if (error instanceof MulterError) {
    if (error.code === 'LIMIT_FILE_SIZE') return tooLarge(maxBytes);
    return badMultipart(`${error.message}${error.field ? ` (${error.field})` : ''}`);
  }
  if (bodyCutShort(req)) return clientDisconnected();
  const message = error instanceof Error ? error.message : String(error);
  // busboy's parse errors ("Unexpected end of form", "Malformed part header", …) are the client's fault.
  if (/multipart|unexpected end|malformed|boundary|part header/i.test(message)) {
    return badMultipart(`The multipart body is malformed: ${message}`);
  }
  return error instanceof Error ? error : new Error(message);
}
