import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config';
import { RateLimitGuard } from './rate-limit.guard';
import { RATE_LIMITS } from './rate-limits';
import { TokenBucketStorage } from './token-bucket.storage';

/**
 * Rate limits (@nestjs/throttler, as token buckets) on authentication, upload creation and seed chunks.
 * ThrottlerModule is global, so a route anywhere opts in with `@RateLimit(name)`. Buckets live in process memory:
 * with several instances behind a balancer each one counts on its own (see docs/security.md).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const limits = config.get('limits', { infer: true });
        const seconds = (value: number) => value * 1000;
        return {
          storage: new TokenBucketStorage(),
          throttlers: [
            { name: RATE_LIMITS.auth, ttl: seconds(limits.throttleTtlSeconds), limit: limits.authPerWindow },
            {
              name: RATE_LIMITS.upload,
              ttl: seconds(limits.uploadRefillSeconds),
              limit: limits.uploadsPerWindow,
            },
            {
              name: RATE_LIMITS.chunk,
              ttl: seconds(limits.chunkRefillSeconds),
              limit: limits.chunksPerBurst,
            },
          ],
        };
      },
    }),
  ],
  providers: [RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
