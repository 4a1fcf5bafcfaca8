import { ArgumentMetadata, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
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

/** Keys class-transformer silently drops (prototype-pollution guards), so the whitelist never sees them. */
const DROPPED_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Paths of dropped keys anywhere in a parsed body or query (JSON.parse makes `__proto__` an own key). */
function droppedKeys(root: unknown): string[] {
  const found: string[] = [];
  // Iterative: a 100 kB body can nest deeper than the call stack.
  const pending: [unknown, string][] = [[root, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, prefix] = next;
    if (!value || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (DROPPED_KEYS.includes(key)) found.push(path);
      else pending.push([(value as Record<string, unknown>)[key], path]);
    }
  }
  return found;
}

function validationError(fields: Record<string, string[]>): ApiError {
  const message = Object.values(fields).flat().join('; ') || 'Validation failed';
  return new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, message, { errors: fields });
}

/** Refuses `__proto__`, `constructor` and `prototype` keys exactly as any other unknown key. */
class StrictValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const paths = metadata.type === 'custom' ? [] : droppedKeys(value);
    if (paths.length) {
      const fields = Object.fromEntries(paths.map((path) => [path, [`property ${path} should not exist`]]));
      return Promise.reject(validationError(fields));
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/** Strict validation: unknown fields are rejected, known ones converted to their declared types. */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => validationError(collect(errors)),
  });
}
