import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { JwtAuthGuard } from './common/guards/jwt-auth.guard';
import { appConfigModule, EnvOverrides } from './config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';

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
      imports: [config, LoggingModule, DatabaseModule, AuthModule, HealthModule],
      providers: [
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
