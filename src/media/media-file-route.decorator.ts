import { applyDecorators, Get, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiResponse } from '@nestjs/swagger';
import { Public } from '../common/decorators/public.decorator';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { MediaContentGuard } from './library/media-content.guard';

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
function ApiFileResponses(mediaTypes: string[], description: string): MethodDecorator {
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

/**
 * A GET route serving one of a media's files (content, thumbnail, poster, rendition) with sendMediaContent:
 * authenticated by bearer token or the media's signed link (MediaContentGuard, hence `Public` for the global guard),
 * documented with its file answers and errors.
 */
export function MediaFileRoute(path: string, mediaTypes: string[], description: string): MethodDecorator {
  return applyDecorators(
    Public(),
    UseGuards(MediaContentGuard),
    Get(path),
    ApiFileResponses(mediaTypes, description),
    ApiErrorResponses(400, 401, 403, 404, 409, 416),
  );
}
