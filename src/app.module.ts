import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AuthModule } from './auth/auth.module';
import { ChunkModule } from './chunk/chunk.module';
import { CryptoModule } from './common/crypto/crypto.module';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { JwtAuthGuard } from './common/guards/jwt-auth.guard';
import { appConfigModule, EnvOverrides } from './config';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MediaModule } from './media/media.module';
import { ProgressModule } from './progress/progress.module';
import { QuotaModule } from './quota/quota.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { StorageModule } from './storage/storage.module';
import { SweeperModule } from './sweeper/sweeper.module';
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
