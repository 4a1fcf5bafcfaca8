import { rm } from 'node:fs/promises';

export default async function s3GlobalTeardown(): Promise<void> {
  const server = globalThis.__TEST_S3_SERVER__;
  if (!server) return;
  await server.stop();
  await rm(server.dataDir, { recursive: true, force: true });
}
