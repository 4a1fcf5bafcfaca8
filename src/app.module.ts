import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from './auth';
import { ChunkModule } from './chunk';
import { CryptoModule } from './common/crypto/crypto.module';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { JwtAuthGuard } from './common/guards/jwt-auth.guard';
import { appConfigModule, EnvOverrides } from './config';
import { DatabaseModule } from './database';
import { DemoModule } from './demo';
import { HealthModule } from './health';
import { LoggingModule } from './logging';
import { MediaModule } from './media';
// eslint-disable-next-line no-restricted-imports -- ProcessingModule is not in processing's barrel (see src/processing/index.ts)
import { ProcessingModule } from './processing/processing.module';
import { ProgressModule } from './progress';
// eslint-disable-next-line no-restricted-imports -- QuotaModule is not in quota's barrel (see src/quota/index.ts)
import { QuotaModule } from './quota/quota.module';
import { RateLimitModule } from './rate-limit';
import { StorageModule } from './storage';
import { SweeperModule } from './sweeper';
// eslint-disable-next-line no-restricted-imports -- UploadCoreModule is not in upload-core's barrel (see src/upload-core/index.ts)
import { UploadCoreModule } from './upload-core/upload-core.module';
import { UploadLimitsModule } from './upload-limits';

@Module({})
export class AppModule {
  /**
   * `overrides` replace environment variables for this app only (tests use them). Config is validated here,
   * before anything else starts, so a bad value rejects this promise with one clear error.
   */
  static async forRoot(overrides: EnvOverrides = {}): Promise<DynamicModule> {
    const config = await appConfigModule(overrides);
    return {
      module: AppModule,
      imports: [
        config,
        LoggingModule,
        DatabaseModule,
        ScheduleModule.forRoot(),
        CryptoModule,
        RateLimitModule,
        StorageModule,
        QuotaModule,
        UploadLimitsModule,
        ProcessingModule,
        UploadCoreModule,
        AuthModule,
        HealthModule,
        ProgressModule,
        MediaModule,
        ChunkModule,
        SweeperModule,
        DemoModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
