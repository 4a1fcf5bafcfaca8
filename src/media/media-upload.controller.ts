import { Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser } from '../common/decorators/current-user.decorator';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { RateLimit } from '../rate-limit';
import { UploadBody } from '../upload-limits';
import { MediaUploadResponseDto } from './dto/media-response.dto';
import { MediaUploadBodyDto } from './dto/media-upload-fields.dto';
import { MediaUploadService } from './upload/media-upload.service';

@ApiTags('upload')
@ApiBearerAuth()
@Controller('upload')
export class MediaUploadController {
  constructor(private readonly uploads: MediaUploadService) {}

  /**
   * Uploads one photo or video in a single streaming multipart request. The type is detected from the content
   * (415 otherwise), the size is limited by MAX_MEDIA_BYTES (413), and progress can be followed and the upload
   * cancelled while the body streams by naming it with `X-Upload-Id`.
   */
  @Post('media')
  @RateLimit('upload')
  @UploadBody()
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: MediaUploadBodyDto })
  @ApiHeader({
    name: 'X-Upload-Id',
    required: false,
    description:
      'Client-chosen upload id (8-64 of A-Z a-z 0-9 _ -), unique per user; lets the client poll progress and cancel while the body streams',
  })
  @ApiHeader({
    name: 'X-Content-SHA256',
    required: false,
    description: 'Hex SHA-256 of the file; a mismatch answers 422 and nothing is kept',
  })
  @ApiCreatedResponse({ type: MediaUploadResponseDto })
  @ApiErrorResponses(400, 401, 409, 413, 415, 422, 507)
  uploadMedia(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MediaUploadResponseDto> {
    return this.uploads.upload(user, req, res);
  }
}
