import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiResponse } from '@nestjs/swagger';

const BINARY = { schema: { type: 'string', format: 'binary' } };

const FILE_HEADERS = {
  'Content-Type': { description: 'The type of the bytes', schema: { type: 'string' } },
  ETag: { description: 'Strong validator for If-None-Match', schema: { type: 'string' } },
  'Cache-Control': { description: 'How long a client may keep the file', schema: { type: 'string' } },
  'Accept-Ranges': { description: '`bytes`', schema: { type: 'string' } },
  'Content-Disposition': {
    description: 'RFC 6266 `inline` with the original file name',
    schema: { type: 'string' },
  },
};

/**
 * The answers of a route that serves a stored file with sendMediaContent: 200 in `mediaTypes`, 206 for a byte range,
 * 304 on a matching If-None-Match, 302 to a presigned URL with S3_DOWNLOAD_MODE=redirect.
 */
export function ApiFileResponses(mediaTypes: string[], description: string): MethodDecorator {
  const content = Object.fromEntries(mediaTypes.map((type) => [type, BINARY]));
  return applyDecorators(
    ApiHeader({ name: 'Range', required: false, description: 'One byte range, e.g. `bytes=0-1023`' }),
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'An ETag from an earlier answer (304 if unchanged)',
    }),
    ApiOkResponse({ description, content, headers: FILE_HEADERS }),
    ApiResponse({
      status: 206,
      description: 'The requested byte range',
      content,
      headers: {
        ...FILE_HEADERS,
        'Content-Range': { description: '`bytes 0-1023/52428800`', schema: { type: 'string' } },
      },
    }),
    ApiResponse({ status: 304, description: 'Not modified: If-None-Match matched the ETag' }),
    ApiResponse({
      status: 302,
      description:
        'S3_DOWNLOAD_MODE=redirect (GET only): fetch the bytes from `Location`, a presigned S3 URL valid ' +
        'SIGNED_URL_TTL seconds that serves the same Content-Type, Content-Disposition and byte ranges. ' +
        'Do not send the Authorization header there.',
      headers: {
        Location: { description: 'The presigned S3 URL', schema: { type: 'string', format: 'uri' } },
        'Cache-Control': { description: '`no-store`', schema: { type: 'string' } },
      },
    }),
  );
}
