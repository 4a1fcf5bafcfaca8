import { Module } from '@nestjs/common';
import { MediaModule } from '../media';
import { ProgressModule } from '../progress';
import { ExpirySweeper } from './expiry-sweeper.service';

/** Expires abandoned uploads of every kind after UPLOAD_EXPIRY. */
@Module({
  imports: [MediaModule, ProgressModule],
  providers: [ExpirySweeper],
  exports: [ExpirySweeper],
})
export class SweeperModule {}
