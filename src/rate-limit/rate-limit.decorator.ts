import { applyDecorators, UseGuards } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { RateLimitGuard } from './rate-limit.guard';
import { RATE_LIMITS, RateLimitName } from './rate-limits';

/** Puts the route under one named rate limit (429 `TOO_MANY_REQUESTS` with `Retry-After` past it). */
export function RateLimit(name: RateLimitName) {
  const others = Object.values(RATE_LIMITS).filter((other) => other !== name);
  return applyDecorators(
    SkipThrottle(Object.fromEntries(others.map((other) => [other, true]))),
    UseGuards(RateLimitGuard),
    ApiErrorResponses(429),
  );
}
