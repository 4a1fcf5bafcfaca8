import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '../config';
import { RateLimitGuard } from './rate-limit.guard';
import { RATE_LIMITS } from './rate-limits';

/**
 * Rate limits (@nestjs/throttler) on authentication and upload creation. ThrottlerModule is global, so a route
 * anywhere opts in with `@RateLimit('auth' | 'upload')`. Counters live in process memory: with several
 * instances behind a balancer each one counts on its own (see docs/security.md).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const limits = config.get('limits', { infer: true });
        const ttl = limits.throttleTtlSeconds * 1000;
        return {
          throttlers: [
            { name: RATE_LIMITS.auth, ttl, limit: limits.authPerWindow },
            { name: RATE_LIMITS.upload, ttl, limit: limits.uploadsPerWindow },
          ],
        };
      },
    }),
  ],
  providers: [RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
