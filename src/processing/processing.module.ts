import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { REDIS_CONNECTION, RedisConnection } from '../coordination';
import { MediaModule, MediaRecordsService } from '../media';
import { ProgressModule } from '../progress';
import { MediaDeriver } from './derive/media-deriver';
import { MediaProbe } from './probe/media-probe';
import { ToolMediaProbe } from './probe/tool-media-probe';
import { BullProcessingQueue } from './queue/bull-processing-queue';
import { InProcessProcessingQueue } from './queue/in-process-processing-queue';
import { ProcessingQueue } from './queue/processing-queue';
import { ProcessingRunner } from './queue/processing-runner';

/**
 * Media processing: the probe the upload core runs at finalisation, and the queue and workers that make derived
 * files (thumbnails, poster, rendition) in the background. Global, like the upload core that uses it.
 */
@Global()
@Module({
  imports: [MediaModule, ProgressModule],
  providers: [
    { provide: MediaProbe, useClass: ToolMediaProbe },
    ProcessingRunner,
    {
      // BullMQ when instances share a Redis (jobs survive any one of them), else in process.
      provide: ProcessingQueue,
      inject: [REDIS_CONNECTION, ProcessingRunner, MediaRecordsService, ConfigService],
      useFactory: (
        redis: RedisConnection | null,
        runner: ProcessingRunner,
        records: MediaRecordsService,
        config: ConfigService<AppConfig, true>,
      ): ProcessingQueue => {
        const settings = config.get('processing', { infer: true });
        const { redisUrl } = config.get('coordination', { infer: true });
        return redis && redisUrl
          ? new BullProcessingQueue(redisUrl, runner, records, settings)
          : new InProcessProcessingQueue(runner, records, settings);
      },
    },
    MediaDeriver,
  ],
  exports: [MediaProbe, ProcessingQueue, MediaDeriver],
})
export class ProcessingModule {}
