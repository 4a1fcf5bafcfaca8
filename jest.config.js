// Three projects: unit specs beside the code, e2e specs in test/ against the real app and a real database server,
// and e2e-s3: the storage-facing e2e specs again, with the app on STORAGE_DRIVER=s3 against a real S3 server.
// ESM-only dependencies (file-type) are loaded through Node's require(esm), which Jest supports natively from
// Node 24.9 when node runs with --experimental-vm-modules (the npm test scripts pass it).
const tsJest = [
  'ts-jest',
  {
    // CommonJS with node10 resolution; tsc (build, typecheck) uses tsconfig.json's nodenext. See tsconfig.jest.json.
    tsconfig: 'tsconfig.jest.json',
    astTransformers: { before: ['<rootDir>/test/swagger-plugin.transformer.js'] },
  },
];

/**
 * The e2e specs that run a second time on STORAGE_DRIVER=s3 (e2e-s3): each test app on a bucket of its own on one
 * versitygw per run (test/support/s3-global-setup.ts, createTestApp, ChildApp); their storage checks go through
 * test/support/stored-objects.ts, so they read the same on both drivers, and none of their tests is skipped on S3.
 * Not here, on purpose:
 * - local disk itself: test/app/http-basics (the free-disk health check, MIN_FREE_DISK_BYTES, which S3 does not
 *   have); the ENOSPC tests of the chosen specs inject the fault at the driver's write stream, so they run on both;
 * - test/chunk/tus-restart and test/ietf/ietf-restart: they watch the local file grow mid-PATCH before their
 *   kill -9; on S3 a request's bytes are kept in whole part-size pieces, and the kill -9 mid-request on S3 is
 *   test/coordination/tus-s3-crash-failover's and test/ietf/ietf-s3-restart's;
 * - test/chunk/seed-chunk-growth: 2000 chunks, too slow for a second run (on S3 it got through 1567 of them in its
 *   240 s, per-chunk time flat); the S3 assembly's growth bounds are test/s3/s3-assembly's and s3-seed-chunks';
 * - S3-only already, each with a server of its own: test/s3/*, test/sweeper/expiry-sweeper-s3,
 *   test/coordination/tus-s3-crash-failover, test/ietf/ietf-s3-restart;
 * - not about stored bytes: auth, app, database, client, browser, cluster and soak specs, test/chunk/tus-proxy-cors.
 */
const S3_SPECS = [
  'test/support/test-storage.e2e-spec.ts',
  'test/media/upload-media.e2e-spec.ts',
  'test/media/upload-failures.e2e-spec.ts',
  'test/media/upload-quota.e2e-spec.ts',
  'test/media/media-library.e2e-spec.ts',
  'test/media/derived-files.e2e-spec.ts',
  'test/chunk/seed-chunk-abort-logging.e2e-spec.ts',
  'test/chunk/seed-chunk-cancel.e2e-spec.ts',
  'test/chunk/seed-chunk-concurrency.e2e-spec.ts',
  'test/chunk/seed-chunk-limits.e2e-spec.ts',
  'test/chunk/seed-chunk-metadata-limits.e2e-spec.ts',
  'test/chunk/seed-chunk-restart.e2e-spec.ts',
  'test/chunk/seed-chunk-security.e2e-spec.ts',
  'test/chunk/seed-chunk-upload.e2e-spec.ts',
  'test/chunk/tus-client.e2e-spec.ts',
  'test/chunk/tus-concat-client.e2e-spec.ts',
  'test/chunk/tus-concat-protocol.e2e-spec.ts',
  'test/chunk/tus-protocol.e2e-spec.ts',
  'test/chunk/tus-resume-finished.e2e-spec.ts',
  'test/chunk/tus-rules.e2e-spec.ts',
  'test/ietf/ietf-upload.e2e-spec.ts',
  'test/ietf/ietf-concurrency.e2e-spec.ts',
  'test/ietf/ietf-quota.e2e-spec.ts',
  'test/ietf/ietf-cluster.e2e-spec.ts',
  'test/progress/multipart-progress.e2e-spec.ts',
  'test/progress/cross-instance-progress.e2e-spec.ts',
  'test/coordination/redis-coordination.e2e-spec.ts',
  'test/coordination/tus-patch-race.e2e-spec.ts',
  'test/coordination/upload-locks-quota-cluster.e2e-spec.ts',
  'test/sweeper/expiry-sweeper.e2e-spec.ts',
  'test/sweeper/expiry-sweeper-restart.e2e-spec.ts',
  'test/security/content-and-multipart.e2e-spec.ts',
  'test/security/idor.e2e-spec.ts',
  'test/security/in-flight-limits.e2e-spec.ts',
  'test/security/injection-and-paths.e2e-spec.ts',
  'test/security/limits.e2e-spec.ts',
  'test/reliability/faults.e2e-spec.ts',
  'test/reliability/database-down.e2e-spec.ts',
  'test/reliability/crash-resume.e2e-spec.ts',
  'test/reliability/upload-claims-release.e2e-spec.ts',
  'test/processing/probe-at-finalisation.e2e-spec.ts',
];

module.exports = {
  testTimeout: 60000,
  // Global setup and teardown are TypeScript too, transformed with the root config.
  transform: { '^.+\\.ts$': tsJest },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e-s3',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: S3_SPECS.map((spec) => `<rootDir>/${spec}`),
      transform: { '^.+\\.ts$': tsJest },
      // Run only when this project has tests to run: one versitygw for the run, TEST_STORAGE=s3 in its files.
      globalSetup: '<rootDir>/test/support/s3-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/s3-global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/s3-project.setup.ts'],
    },
  ],
};
