import { buildAppConfig } from './app-config';
import { ConfigValidationError, validateEnv } from './validate-env';

describe('validateEnv', () => {
  it('fills every default from an empty environment', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      UPLOAD_DIR: './uploads',
      JWT_EXPIRES_IN: 3600,
    });
  });

  it('converts numeric strings and treats empty values as unset', () => {
    const env = validateEnv({ PORT: '8080', MONGODB_URI: '' });
    expect(env.PORT).toBe(8080);
    expect(env.MONGODB_URI).toBeUndefined();
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    [{ JWT_SECRET: 'too-short' }, 'JWT_SECRET'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ JWT_EXPIRES_IN: '5' }, 'JWT_EXPIRES_IN'],
    [{ PUBLIC_URL: 'media.example.com' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'https://media.example.com/?next=evil' }, 'PUBLIC_URL'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
  ])('rejects %p with one line naming %s', (raw, name) => {
    let error: unknown;
    try {
      validateEnv(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toContain(name);
    expect(message).not.toContain('\n');
  });
});

describe('buildAppConfig', () => {
  it('generates a random JWT secret in development and says so', () => {
    const a = buildAppConfig(validateEnv({}));
    const b = buildAppConfig(validateEnv({}));
    expect(a.auth.jwtSecretGenerated).toBe(true);
    expect(a.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(a.auth.jwtSecret).not.toBe(b.auth.jwtSecret);
  });

  it('parses CORS origins and the trust-proxy setting', () => {
    const config = buildAppConfig(
      validateEnv({ CORS_ORIGINS: 'https://a.example, https://b.example', TRUST_PROXY: '1' }),
    );
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.http.trustProxy).toBe(1);
    expect(buildAppConfig(validateEnv({ CORS_ORIGINS: '*' })).http.corsOrigins).toBe('*');
  });
});
