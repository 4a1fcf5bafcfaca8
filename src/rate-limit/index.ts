export { RateLimit } from './rate-limit.decorator';
export { RateLimitModule } from './rate-limit.module';
export { RATE_LIMITS, type RateLimitName } from './rate-limits';
