// The e2e-s3 Jest project's setup file: createTestApp stores on the run's shared versitygw (see test-storage.ts).
// Jest gives each test file a copy of process.env, so this never reaches the local e2e project's files.
process.env.TEST_STORAGE = 's3';
