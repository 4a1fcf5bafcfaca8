import { resolve } from 'node:path';
import { ConfigValidationError } from '../config/validate-env';
import { clusterSettings } from './cluster-settings';

describe('clusterSettings', () => {
  it('defaults to two instances on 127.0.0.1:3000 with S3 storage and a generated 32+ character secret', () => {
    const settings = clusterSettings({});
    expect(settings).toMatchObject({
      instances: 2,
      host: '127.0.0.1',
      firstPort: 3000,
      storage: 's3',
      bucket: 'media-uploads',
      region: 'us-east-1',
      dataDir: resolve('data', 'cluster'),
    });
    expect(settings.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(clusterSettings({}).jwtSecret).not.toBe(settings.jwtSecret);
  });

  it('takes the instance count, ports, host, secret, storage, folder and bucket from the environment', () => {
    const secret = 'x'.repeat(40);
    expect(
      clusterSettings({
        CLUSTER_INSTANCES: '3',
        PORT: '8080',
        HOST: '0.0.0.0',
        JWT_SECRET: secret,
        CLUSTER_STORAGE: 'local',
        CLUSTER_DATA_DIR: '/tmp/c',
        S3_BUCKET: 'my-bucket',
      }),
    ).toMatchObject({
      instances: 3,
      firstPort: 8080,
      host: '0.0.0.0',
      jwtSecret: secret,
      storage: 'local',
      dataDir: '/tmp/c',
      bucket: 'my-bucket',
    });
  });

  it.each([
    [{ CLUSTER_INSTANCES: '0' }, 'CLUSTER_INSTANCES'],
    [{ CLUSTER_INSTANCES: 'two' }, 'CLUSTER_INSTANCES'],
    [{ CLUSTER_INSTANCES: '17' }, 'CLUSTER_INSTANCES'],
    [{ CLUSTER_STORAGE: 'gcs' }, 'CLUSTER_STORAGE'],
    [{ PORT: '65535' }, 'PORT'],
    [{ PORT: '0' }, 'PORT'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET'],
  ])('refuses %j with one line naming %s', (env, name) => {
    expect(() => clusterSettings(env)).toThrow(ConfigValidationError);
    expect(() => clusterSettings(env)).toThrow(`Invalid configuration: ${name}`);
  });
});
