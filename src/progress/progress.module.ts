import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { ControlBus, REDIS_CONNECTION, RedisConnection, RedisExpiringValues } from '../coordination';
import { ProgressController } from './progress.controller';
import { ProgressFeedService } from './progress-feed.service';
import { ProgressTracker } from './progress-tracker.service';
import { ProcessingProgressService } from './processing-progress.service';
import { CancelRequest, CancelRequestSchema } from './schemas/cancel-request.schema';
import { SseTicketUse, SseTicketUseSchema } from './schemas/sse-ticket-use.schema';
import { UploadProgress, UploadProgressSchema } from './schemas/upload-progress.schema';
import { SseAuthGuard } from './sse-auth.guard';
import { SharedProgress } from './shared-progress';
import { SseTicketService } from './sse-ticket.service';
import { UploadCancelService } from './upload-cancel.service';
import { UploadProgressService } from './upload-progress.service';

/**
 * Live progress, SSE, and cancel for every kind of upload: the read side. Progress is started (or re-attached) by the
 * upload core's UploadClaims through ProgressTracker; protocols feed the LiveUpload their claim holds.
 */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: UploadProgress.name, schema: UploadProgressSchema },
      { name: CancelRequest.name, schema: CancelRequestSchema },
      { name: SseTicketUse.name, schema: SseTicketUseSchema },
    ]),
  ],
  controllers: [ProgressController],
  providers: [
    ProgressTracker,
    UploadProgressService,
    UploadCancelService,
    SseTicketService,
    ProgressFeedService,
    ProcessingProgressService,
    SseAuthGuard,
    JwtAuthGuard,
    {
      provide: SharedProgress,
      inject: [REDIS_CONNECTION, ControlBus],
      useFactory: (redis: RedisConnection | null, bus: ControlBus) =>
        new SharedProgress(redis && new RedisExpiringValues(redis.client, 'progress'), bus),
    },
  ],
  exports: [ProgressTracker, UploadProgressService, UploadCancelService, ProcessingProgressService],
})
export class ProgressModule {}
