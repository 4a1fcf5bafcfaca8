import { HttpException } from '@nestjs/common';

/** The body an `ApiError` carries; the global filter adds `success`, `statusCode` and `requestId`. */
export interface ApiErrorBody {
  error: string;
  message: string;
  /** Per-field messages, for validation failures. */
  errors?: Record<string, string[]>;
  /** Anything else a client can act on, e.g. the missing chunk indexes. */
  [detail: string]: unknown;
}

/** An HTTP error with a stable `error` code (see `ErrorCode`). */
export class ApiError extends HttpException {
  constructor(status: number, error: string, message: string, details: Record<string, unknown> = {}) {
    super({ ...details, error, message } satisfies ApiErrorBody, status);
  }
}
