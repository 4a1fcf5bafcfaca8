import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createTestApp } from '../support/test-app';
import { registerUser } from '../support/users';

describe('Restarting the service', () => {
  it('keeps accounts: register, stop, start again over the same database, log in', async () => {
    const first = await createTestApp();
    const user = await registerUser(first.url);
    await first.stop();

    const second = await createTestApp({ dbName: first.dbName, uploadDir: first.uploadDir });
    try {
      const res = await request(second.url)
        .post('/api/auth/login')
        .send({ login: user.username, password: user.password });
      expect(res.status).toBe(200);
      // The fixed test secret means the token issued before the restart is still good.
      await request(second.url).get('/api/auth/me').set(user.auth).expect(200);
    } finally {
      await second.close();
    }
  });

  it('with no MONGODB_URI, starts its own embedded server whose data survives a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'media-upload-embedded-'));
    const env = { MONGODB_URI: '', MONGODB_DB: '', EMBEDDED_DB_DIR: dataDir };
    try {
      const first = await createTestApp({ env });
      const user = await registerUser(first.url);
      await first.stop();

      const second = await createTestApp({ env, uploadDir: first.uploadDir });
      try {
        await request(second.url)
          .post('/api/auth/login')
          .send({ login: user.email, password: user.password })
          .expect(200);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
