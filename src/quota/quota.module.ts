import { Global, Module } from '@nestjs/common';
import { CoordinationModule, REDIS_CONNECTION, RedisConnection } from '../coordination';
import { MediaModule } from '../media';
import { InProcessQuotaLedger, QuotaLedger } from './quota-ledger';
import { QuotaService } from './quota.service';
import { RedisQuotaLedger } from './redis-quota-ledger';

/**
 * Per-user storage quota (USER_QUOTA_BYTES), global so every upload route can check it. Running requests'
 * reservations are shared through Redis when REDIS_URL is set, else kept in process.
 */
@Global()
@Module({
  imports: [MediaModule, CoordinationModule],
  providers: [
    QuotaService,
    {
      provide: QuotaLedger,
      inject: [REDIS_CONNECTION],
      useFactory: (redis: RedisConnection | null): QuotaLedger =>
        redis ? new RedisQuotaLedger(redis.client) : new InProcessQuotaLedger(),
    },
  ],
  exports: [QuotaService],
})
export class QuotaModule {}
