import { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { buildAppConfig } from './app-config';
import { validateEnv } from './validate-env';

export type EnvOverrides = Record<string, string | undefined>;

/**
 * Global, validated configuration. `overrides` win over process.env and .env; tests use them to give each
 * app its own database and upload folder without touching the process environment.
 */
export function appConfigModule(overrides: EnvOverrides = {}): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    cache: true,
    envFilePath: overrides.NODE_ENV === 'test' ? [] : ['.env'],
    validate: (raw) => buildAppConfig(validateEnv({ ...raw, ...overrides })),
  });
}
