import { createHmac } from 'node:crypto';
import request from 'supertest';
import { createTestApp, TEST_JWT_SECRET, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Builds a JWT by hand so each field can be wrong on purpose. */
function forge(
  payload: object,
  secret = TEST_JWT_SECRET,
  header: object = { alg: 'HS256', typ: 'JWT' },
): string {
  const unsigned = `${b64(header)}.${b64(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

describe('Global JWT guard', () => {
  let t: TestApp;
  let user: TestUser;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({
    sub: user.id,
    username: user.username,
    iss: 'media-upload-service',
    aud: 'media-upload-clients',
    iat: now(),
    exp: now() + 600,
  });

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url);
  });
  afterAll(() => t.close());

  const me = (authorization?: string) => {
    const req = request(t.url).get('/api/auth/me');
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  it('accepts a well-formed token with the right claims', async () => {
    await me(`Bearer ${forge(claims())}`).expect(200);
  });

  it('issues HS256 tokens with sub, exp, iss and aud', () => {
    const [header, payload] = user.token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: user.id, iss: 'media-upload-service', aud: 'media-upload-clients' });
    expect(payload.exp - payload.iat).toBe(3600);
  });

  it.each<[string, () => string | undefined, string]>([
    ['a missing Authorization header', () => undefined, 'TOKEN_MISSING'],
    ['a non-Bearer scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`, 'TOKEN_MISSING'],
    ['a malformed token', () => 'Bearer not.a.jwt', 'TOKEN_INVALID'],
    [
      'an expired token',
      () => `Bearer ${forge({ ...claims(), iat: now() - 7200, exp: now() - 3600 })}`,
      'TOKEN_EXPIRED',
    ],
    [
      'a token signed with another secret',
      () => `Bearer ${forge(claims(), 'another-secret-another-secret-123456')}`,
      'TOKEN_INVALID',
    ],
    [
      'an alg:none token',
      () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`,
      'TOKEN_INVALID',
    ],
    [
      'an HS512 token',
      () => `Bearer ${forge(claims(), TEST_JWT_SECRET, { alg: 'HS512', typ: 'JWT' })}`,
      'TOKEN_INVALID',
    ],
    ['a wrong issuer', () => `Bearer ${forge({ ...claims(), iss: 'someone-else' })}`, 'TOKEN_INVALID'],
    ['a wrong audience', () => `Bearer ${forge({ ...claims(), aud: 'someone-else' })}`, 'TOKEN_INVALID'],
    ['a token without exp', () => `Bearer ${forge({ ...claims(), exp: undefined })}`, 'TOKEN_INVALID'],
    [
      'a token for a user that does not exist',
      () => `Bearer ${forge({ ...claims(), sub: '0123456789abcdef01234567' })}`,
      'TOKEN_INVALID',
    ],
  ])('rejects %s with a JSON 401', async (_case, header, code) => {
    const res = await me(header());

    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({
      success: false,
      statusCode: 401,
      error: code,
      message: expect.any(String),
      requestId: res.headers['x-request-id'],
    });
  });

  it('leaves register, login, health and docs public', async () => {
    await request(t.url).get('/api/health').expect(200);
    await request(t.url).get('/api/docs').expect(200);
    await request(t.url).get('/api/docs-json').expect(200);
    await request(t.url).post('/api/auth/login').send({ login: 'x', password: 'y' }).expect(401);
    await request(t.url).post('/api/auth/register').send({}).expect(400);
  });
});
