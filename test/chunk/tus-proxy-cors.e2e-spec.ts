import request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { TUS } from './tus-support';

describe('tus behind a proxy, same-origin only', () => {
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'true', CORS_ORIGINS: '' } });
    alice = await registerUser(t.url, 'alice');
  });

  afterAll(() => t.close());

  it('builds Location from X-Forwarded-Proto and X-Forwarded-Host when TRUST_PROXY is set', async () => {
    const res = await request(t.url)
      .post('/api/tus')
      .set({
        ...alice.auth,
        ...TUS,
        'Upload-Length': '10',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'media.example.com',
      })
      .expect(201);
    expect(res.headers.location).toMatch(/^https:\/\/media\.example\.com\/api\/tus\/[A-Za-z0-9_-]{22}$/);
  });

  it('allows no cross-origin caller when CORS_ORIGINS is empty (never `*`)', async () => {
    const preflight = await request(t.url)
      .options('/api/tus')
      .set({ Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'POST' });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();

    const created = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, Origin: 'https://elsewhere.example', 'Upload-Length': '10' })
      .expect(201);
    expect(created.headers['access-control-allow-origin']).toBeUndefined();
  });
});
