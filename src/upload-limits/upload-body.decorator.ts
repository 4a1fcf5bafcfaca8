import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { UploadBodyGuard } from './upload-body.guard';

/**
 * Marks a route that streams an upload body: it counts against the user's concurrent uploads (429
 * `TOO_MANY_CONCURRENT_UPLOADS`) and is ended with 408 `UPLOAD_TOO_SLOW` when the body trickles.
 */
export function UploadBody() {
  return applyDecorators(UseGuards(UploadBodyGuard), ApiErrorResponses(408, 429));
}
