import { ApiResponse, DECORATORS } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (`VALIDATION_FAILED` lists the problem per field)',
  401: 'Missing, malformed, expired or invalid bearer token, or bad credentials',
  403: 'Not allowed',
  404: 'Not found, or owned by another user',
  408: 'The upload body arrived slower than UPLOAD_MIN_BYTES_PER_SECOND (`UPLOAD_TOO_SLOW`); the connection is closed',
  409: 'Conflicts with the current state',
  410: 'The upload ended (cancelled, expired or failed)',
  412: 'The `Tus-Resumable` header is missing',
  413: 'Body or file larger than the limit',
  415: 'File content is not an allowed media type',
  416: 'The requested byte range is outside the file',
  422: 'Checksum mismatch',
  429: 'Too many requests; see `Retry-After`',
  460: 'Checksum mismatch (tus `Upload-Checksum`); the chunk was discarded',
  503: 'A dependency is unavailable',
  507: 'The server is out of storage',
};

/**
 * Documents the error statuses a route can return, all with the shared error body. A status the route already
 * documents (two composed decorators both naming 429) is skipped: swagger would join both descriptions.
 */
export function ApiErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder: object = descriptor ? (descriptor.value as object) : target;
    const documented = (Reflect.getMetadata(DECORATORS.API_RESPONSE, holder) ?? {}) as Record<
      string,
      unknown
    >;
    for (const status of statuses.filter((code) => !(String(code) in documented))) {
      const decorate = ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorResponseDto });
      decorate(target, key as string | symbol, descriptor as PropertyDescriptor);
    }
  };
}
