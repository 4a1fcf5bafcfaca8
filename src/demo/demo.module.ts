import { Module } from '@nestjs/common';

/** The browser demo page at /demo. */
@Module({})
export class DemoModule {}
