import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../../common/decorators/current-user.decorator';
import { ApiErrorResponses } from '../../common/openapi/api-error-responses.decorator';
import { RateLimit } from '../../rate-limit';
import { UploadBody } from '../../upload-limits';
import { ChunkFile } from './chunk-storage.engine';
import { ChunkStatusResponseDto } from './dto/chunk-status-response.dto';
import { ChunkUploadResponseDto } from './dto/chunk-upload-response.dto';
import { UploadChunkBodyDto, UploadChunkDto } from './dto/upload-chunk.dto';
import { FileIdPipe } from './file-id.pipe';
import { ReleaseChunkOnErrorInterceptor } from './release-chunk-on-error.interceptor';
import { SeedChunkService } from './seed-chunk.service';

@ApiTags('video')
@ApiBearerAuth()
@Controller('video')
export class SeedChunkController {
  constructor(private readonly chunks: SeedChunkService) {}

  /**
   * Uploads one chunk of a video (the seed's chunk API). Chunks may arrive in any order and be resent; the one
   * sent with `status=completed` finalises the upload once no chunk is missing (409 `CHUNKS_MISSING` lists them).
   * Send the text fields before `file` to get live progress and instant cancel while the chunk streams.
   */
  @Post('upload')
  @RateLimit('chunk')
  @UploadBody()
  @HttpCode(HttpStatus.OK)
  @UseInterceptors(FileInterceptor('file'), ReleaseChunkOnErrorInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadChunkBodyDto })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415, 422, 507)
  async uploadVideoChunk(
    @CurrentUser() user: AuthUser,
    @Body() body: UploadChunkDto,
    @UploadedFile() file?: ChunkFile,
  ): Promise<ChunkUploadResponseDto> {
    return { success: true, data: await this.chunks.upload(user, body, file?.chunk) };
  }

  /** What the server holds of one of the caller's chunk uploads, and where to resume. */
  @Get('status/:fileId')
  @ApiErrorResponses(400, 401)
  async getVideoUploadStatus(
    @CurrentUser() user: AuthUser,
    @Param('fileId', FileIdPipe) fileId: string,
  ): Promise<ChunkStatusResponseDto> {
    return { success: true, data: await this.chunks.status(user, fileId) };
  }
}
