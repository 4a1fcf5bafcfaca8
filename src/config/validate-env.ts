import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { EnvironmentVariables } from './env.schema';

/** Thrown at boot when a variable is invalid; its message is the one line printed before exiting. */
export class ConfigValidationError extends Error {
  override name = 'ConfigValidationError';
}

export function validateEnv(raw: Record<string, unknown>): EnvironmentVariables {
  // An empty `KEY=` line in .env means "unset", not "empty string".
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ''));
  const env = plainToInstance(EnvironmentVariables, present, { enableImplicitConversion: true });
  const [first] = validateSync(env, { forbidUnknownValues: true });
  if (first) {
    const reason = Object.values(first.constraints ?? {})[0] ?? 'is invalid';
    throw new ConfigValidationError(`Invalid configuration: ${first.property} (${reason})`);
  }
  if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
    throw new ConfigValidationError('Invalid configuration: JWT_SECRET is required when NODE_ENV=production');
  }
  return env;
}
