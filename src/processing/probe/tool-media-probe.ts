import { Injectable } from '@nestjs/common';
import { emptyMetadata, MediaMetadata } from '../media-metadata';
import { MediaProbe, ProbeInput } from './media-probe';

// TEMPORARY (replaced within this change): the real probe (ffprobe, sharp + EXIF) is being written.
@Injectable()
export class ToolMediaProbe extends MediaProbe {
  probe(_input: ProbeInput): Promise<MediaMetadata> {
    return Promise.resolve(emptyMetadata());
  }
}
