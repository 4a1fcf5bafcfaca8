import { Global, Module } from '@nestjs/common';
import { MediaModule } from '../media/media.module';
import { QuotaService } from './quota.service';

/** Per-user storage quota (USER_QUOTA_BYTES), global so every upload route can check it. */
@Global()
@Module({
  imports: [MediaModule],
  providers: [QuotaService],
  exports: [QuotaService],
})
export class QuotaModule {}
