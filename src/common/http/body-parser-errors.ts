import { HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors/api-error';
import { ErrorCode } from '../errors/error-code';

interface BodyParserError {
  type?: string;
  limit?: number;
}

/** Express error middleware placed right after body-parser: gives its failures stable error codes. */
export function mapBodyParserErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const { type, limit } = (err ?? {}) as BodyParserError;
  if (type === 'entity.parse.failed') {
    return next(
      new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.INVALID_JSON, 'The request body is not valid JSON'),
    );
  }
  if (type === 'entity.too.large') {
    const message = `The JSON body is larger than ${limit} bytes`;
    return next(new ApiError(HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, message));
  }
  next(err);
}
