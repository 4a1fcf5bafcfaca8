import { Global, Module } from '@nestjs/common';
import { MediaProbe } from './probe/media-probe';
import { ToolMediaProbe } from './probe/tool-media-probe';
import { InProcessProcessingQueue } from './queue/in-process-processing-queue';
import { ProcessingQueue } from './queue/processing-queue';

/**
 * Media processing: the probe the upload core runs at finalisation, and the queue and workers that make derived
 * files (thumbnails, poster, rendition) in the background. Global, like the upload core that uses it.
 */
@Global()
@Module({
  providers: [
    { provide: MediaProbe, useClass: ToolMediaProbe },
    { provide: ProcessingQueue, useClass: InProcessProcessingQueue },
  ],
  exports: [MediaProbe, ProcessingQueue],
})
export class ProcessingModule {}
