import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config';
import { CoordinationModule, REDIS_CONNECTION, RedisConnection } from '../coordination';
import { RateLimitGuard } from './rate-limit.guard';
import { RATE_LIMITS } from './rate-limits';
import { RedisTokenBucketStorage } from './redis-token-bucket.storage';
import { TokenBucketStorage } from './token-bucket.storage';

/**
 * Rate limits (@nestjs/throttler, as token buckets) on authentication, upload creation and seed chunks.
 * ThrottlerModule is global, so a route anywhere opts in with `@RateLimit(name)`. Buckets live in Redis when
 * REDIS_URL is set, so every instance counts against the same budget; otherwise in process memory.
 */
@Module({
  imports: [
    CoordinationModule,
    ThrottlerModule.forRootAsync({
      inject: [ConfigService, REDIS_CONNECTION],
      useFactory: (config: ConfigService<AppConfig, true>, redis: RedisConnection | null) => {
        const limits = config.get('limits', { infer: true });
        const seconds = (value: number) => value * 1000;
        return {
          storage: redis ? new RedisTokenBucketStorage(redis.client) : new TokenBucketStorage(),
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
