import { Controller, Get, HttpCode, HttpStatus, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ConfigService } from '@nestjs/config';
import { AuthUser, CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { UploadIdPipe } from '../common/uploads/upload-id.pipe';
import type { AppConfig } from '../config';
import { CancelResponseDto, ProgressResponseDto, SseTicketResponseDto } from './dto/progress-response.dto';
import { ProgressFeedService } from './progress-feed.service';
import { streamProgress } from './progress-stream';
import { ProgressView } from './progress-view';
import { ProgressTracker } from './progress-tracker.service';
import { SseAuthGuard } from './sse-auth.guard';
import { SseTicketService } from './sse-ticket.service';
import { UploadCancelService } from './upload-cancel.service';

@ApiTags('progress')
@ApiBearerAuth()
@Controller('upload')
export class ProgressController {
  private readonly eventIntervalMs: number;

  constructor(
    private readonly tracker: ProgressTracker,
    private readonly cancels: UploadCancelService,
    private readonly tickets: SseTicketService,
    private readonly feeds: ProgressFeedService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.eventIntervalMs = config.get('uploads', { infer: true }).progressEventMs;
  }

  /** Live progress of one of the caller's uploads (any kind: single request, seed chunks or tus). */
  @Get('progress/:id')
  @ApiErrorResponses(400, 401, 404)
  async getProgress(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<ProgressResponseDto> {
    return this.viewOrNotFound(user.userId, id);
  }

  /**
   * A single-use ticket for the events route, for EventSource clients that cannot send an Authorization header.
   * The long-lived access token never goes into a URL.
   */
  @Post('progress/:id/events/ticket')
  @ApiErrorResponses(400, 401, 404)
  async createEventsTicket(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<SseTicketResponseDto> {
    await this.viewOrNotFound(user.userId, id);
    const ticket = this.tickets.issue(user.userId, id);
    return {
      success: true,
      ticket,
      expiresIn: this.tickets.ttlSeconds,
      eventsUrl: `/api/upload/progress/${id}/events?ticket=${encodeURIComponent(ticket)}`,
    };
  }

  /**
   * Server-Sent Events: a `progress` event (same body as GET progress) on every change, at most one per
   * PROGRESS_EVENT_MS, then `end` once the upload is completed, failed, cancelled or expired. Authenticate with
   * `Authorization: Bearer` or with `?ticket=` from the ticket route.
   */
  @Public()
  @UseGuards(SseAuthGuard)
  @Get('progress/:id/events')
  @ApiQuery({ name: 'ticket', required: false, description: 'Single-use ticket from POST …/events/ticket' })
  @ApiOkResponse({
    description: 'text/event-stream of `progress` events (data: the GET progress body), then `end`',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'event: progress\nid: 1\ndata: {"success":true,"uploadId":"vid_20240601_abc123","bytesUploaded":26214400,…}\n\n' +
          'event: end\ndata: {"status":"completed"}\n\n',
      },
    },
  })
  @ApiErrorResponses(400, 401, 404)
  async streamProgressEvents(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Res() res: Response,
  ): Promise<void> {
    const first = await this.viewOrNotFound(user.userId, id);
    streamProgress(res, first, this.feeds.feed(user.userId, id), this.eventIntervalMs);
  }

  /**
   * Cancels an unfinished upload: a running stream is aborted, its partial bytes deleted, and its status set to
   * `cancelled`. Cancelling twice is harmless; a completed upload answers 409 (delete it with DELETE /api/media/:id).
   */
  @Post('cancel/:id')
  @HttpCode(HttpStatus.OK)
  @ApiErrorResponses(400, 401, 404, 409)
  async cancelUpload(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<CancelResponseDto> {
    const view = await this.cancels.cancel(user.userId, id);
    return {
      ...view,
      message: view.status === 'cancelled' ? 'Upload cancelled' : `Upload already ${view.status}`,
    };
  }

  private async viewOrNotFound(userId: string, uploadId: string): Promise<ProgressView> {
    const view = await this.tracker.view(userId, uploadId);
    if (!view) throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');
    return view;
  }
}
