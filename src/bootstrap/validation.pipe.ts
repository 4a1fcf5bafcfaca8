import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';

/** Flattens nested validation errors into `{ "field.path": ["message", …] }`. */
function collect(errors: ValidationError[], prefix = '', into: Record<string, string[]> = {}) {
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) into[path] = Object.values(error.constraints);
    if (error.children?.length) collect(error.children, path, into);
  }
  return into;
}

/** Strict validation: unknown fields are rejected, known ones converted to their declared types. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => {
      const fields = collect(errors);
      const message = Object.values(fields).flat().join('; ') || 'Validation failed';
      return new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, message, { errors: fields });
    },
  });
}
