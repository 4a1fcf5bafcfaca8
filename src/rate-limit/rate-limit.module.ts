import { Module } from '@nestjs/common';

/** Rate limits (@nestjs/throttler) on authentication and upload creation. */
@Module({})
export class RateLimitModule {}
