import { Types } from 'mongoose';
import request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { claimsFor, forgeToken, snapshot } from './support/attack-support';

/** Every authenticated route family, called with a given Authorization header. */
const PROTECTED: [string, (t: TestApp) => request.Test][] = [
  ['GET /api/auth/me', (t) => request(t.url).get('/api/auth/me')],
  ['GET /api/media', (t) => request(t.url).get('/api/media')],
  ['POST /api/upload/media', (t) => request(t.url).post('/api/upload/media')],
  ['GET /api/upload/progress/:id', (t) => request(t.url).get('/api/upload/progress/some-upload-id')],
  ['POST /api/upload/cancel/:id', (t) => request(t.url).post('/api/upload/cancel/some-upload-id')],
  ['POST /api/video/upload', (t) => request(t.url).post('/api/video/upload')],
  ['GET /api/video/status/:fileId', (t) => request(t.url).get('/api/video/status/some-file')],
  ['POST /api/tus', (t) => request(t.url).post('/api/tus').set('Tus-Resumable', '1.0.0')],
  ['HEAD /api/tus/:id', (t) => request(t.url).head('/api/tus/some-upload-id').set('Tus-Resumable', '1.0.0')],
];

describe('Attacks on authentication: every bad token is 401 on every protected route, and changes nothing', () => {
  let t: TestApp;
  let user: TestUser;
  let deleted: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url, 'victim');
    deleted = await registerUser(t.url, 'gone');
    // The account is deleted behind the service's back; its token is still well signed and unexpired.
    await t.connection.collection('users').deleteOne({ _id: new Types.ObjectId(deleted.id) });
  });
  afterAll(() => t.close());

  const tokens: [string, () => string | undefined, string][] = [
    ['no token', () => undefined, 'TOKEN_MISSING'],
    ['a malformed header', () => 'Bearer not.a.jwt', 'TOKEN_INVALID'],
    ['a Basic header', () => 'Basic dXNlcjpwYXNz', 'TOKEN_MISSING'],
    [
      'two bearer tokens in one header',
      () => `${user.auth.Authorization} Bearer ${deleted.token}`,
      'TOKEN_INVALID',
    ],
    ['a valid token with trailing garbage', () => `${user.auth.Authorization} x`, 'TOKEN_INVALID'],
    [
      'alg:none',
      () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const body = Buffer.from(JSON.stringify(claimsFor(user.id, user.username))).toString('base64url');
        return `Bearer ${header}.${body}.`;
      },
      'TOKEN_INVALID',
    ],
    [
      'alg:HS512',
      () =>
        `Bearer ${forgeToken(claimsFor(user.id, user.username), undefined, { alg: 'HS512', typ: 'JWT' })}`,
      'TOKEN_INVALID',
    ],
    [
      'an expired token',
      () => `Bearer ${forgeToken(claimsFor(user.id, user.username, -60))}`,
      'TOKEN_EXPIRED',
    ],
    [
      'a token signed with another secret',
      () =>
        `Bearer ${forgeToken(claimsFor(user.id, user.username), 'another-secret-that-is-at-least-32-chars')}`,
      'TOKEN_INVALID',
    ],
    [
      'a token with another issuer',
      () => `Bearer ${forgeToken({ ...claimsFor(user.id, user.username), iss: 'evil' })}`,
      'TOKEN_INVALID',
    ],
    ["a deleted user's token", () => deleted.auth.Authorization, 'TOKEN_INVALID'],
    [
      'a token for a user id that never existed',
      () => `Bearer ${forgeToken(claimsFor(new Types.ObjectId().toHexString(), 'nobody'))}`,
      'TOKEN_INVALID',
    ],
    [
      'a token whose sub is an operator object',
      () => `Bearer ${forgeToken({ ...claimsFor(user.id, user.username), sub: { $ne: null } })}`,
      'TOKEN_INVALID',
    ],
  ];

  it.each(tokens)('%s → 401 on every protected route', async (_name, token, code) => {
    const before = await snapshot(t);
    for (const [route, call] of PROTECTED) {
      const req = call(t);
      const authorization = token();
      if (authorization !== undefined) req.set('Authorization', authorization);
      const res = await req;
      expect({ route, status: res.status }).toEqual({ route, status: 401 });
      if (res.body && typeof res.body === 'object' && 'error' in res.body) {
        expect({ route, error: (res.body as { error: string }).error }).toEqual({ route, error: code });
      }
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('the valid token still works (the cases above fail for their own reason)', async () => {
    await request(t.url).get('/api/auth/me').set(user.auth).expect(200);
  });
});
