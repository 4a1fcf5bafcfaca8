import request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser } from '../support/users';

describe('AuthModule: register, login, me', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const register = (body: object) => request(t.url).post('/api/auth/register').send(body);
  const login = (body: object) => request(t.url).post('/api/auth/login').send(body);

  it('POST /api/auth/register returns 201 with the user and a token, and stores an argon2id hash', async () => {
    const res = await register({
      username: 'Carol.Smith',
      email: 'Carol@Example.com',
      password: 'hunter2hunter2',
    });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      success: true,
      user: { username: 'carol.smith', email: 'carol@example.com' },
      tokenType: 'Bearer',
      expiresIn: 3600,
    });
    expect(res.body.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|passwordHash|argon2/);

    const stored = await t.connection.collection('users').findOne({ username: 'carol.smith' });
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it.each([
    ['username, in another case', { username: 'CAROL.SMITH', email: 'other@example.com' }, 'USERNAME_TAKEN'],
    ['email, in another case', { username: 'someone_else', email: 'CAROL@example.COM' }, 'EMAIL_TAKEN'],
  ])('POST /api/auth/register rejects a duplicate %s with 409', async (_case, fields, code) => {
    const before = await t.connection.collection('users').countDocuments();
    const res = await register({ ...fields, password: 'password123' });

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ success: false, statusCode: 409, error: code });
    expect(await t.connection.collection('users').countDocuments()).toBe(before);
  });

  it('POST /api/auth/register answers 400 with a message per invalid field', async () => {
    const res = await register({ username: 'a b', email: 'not-an-email', password: 'short' });

    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(Object.keys(res.body.errors).sort()).toEqual(['email', 'password', 'username']);
    expect(res.body.errors.email[0]).toMatch(/email/);
    expect(res.body.errors.username[0]).toMatch(/3-32/);
    expect(res.body.errors.password[0]).toMatch(/8-128/);
  });

  it.each([
    ['a username that is too short', { username: 'ab' }],
    ['a username that is too long', { username: 'a'.repeat(33) }],
    ['a password that is too long', { password: 'p'.repeat(129) }],
    ['an unknown field', { isAdmin: true }],
    ['a non-string password', { password: 12345678 }],
  ])('POST /api/auth/register rejects %s with 400 and creates nothing', async (_case, override) => {
    const before = await t.connection.collection('users').countDocuments();
    const res = await register({
      username: 'valid_name',
      email: 'valid@example.com',
      password: 'password123',
      ...override,
    });

    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    expect(await t.connection.collection('users').countDocuments()).toBe(before);
  });

  it('POST /api/auth/login accepts the username or the email, in any case', async () => {
    const user = await registerUser(t.url, 'Login');

    for (const loginName of [user.username, user.email.toUpperCase()]) {
      const res = await login({ login: loginName, password: user.password });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, user: { id: user.id }, expiresIn: 3600 });
      await request(t.url)
        .get('/api/auth/me')
        .set('Authorization', `Bearer ${res.body.accessToken}`)
        .expect(200);
    }
  });

  it('POST /api/auth/login gives an unknown user and a wrong password the same 401', async () => {
    const user = await registerUser(t.url);
    const wrongPassword = await login({ login: user.username, password: 'not the password' });
    const unknownUser = await login({ login: 'nobody_here', password: 'not the password' });

    for (const res of [wrongPassword, unknownUser]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ success: false, statusCode: 401, error: 'INVALID_CREDENTIALS' });
    }
    const { requestId: _a, ...first } = wrongPassword.body;
    const { requestId: _b, ...second } = unknownUser.body;
    expect(first).toEqual(second);
  });

  it('POST /api/auth/login ignores operator injection in the login field', async () => {
    await registerUser(t.url);
    const res = await login({ login: { $gt: '' }, password: 'whatever-password' });
    expect(res.status).toBe(400);
  });

  it('GET /api/auth/me returns the caller profile and never the hash', async () => {
    const user = await registerUser(t.url);
    const res = await request(t.url).get('/api/auth/me').set(user.auth).expect(200);

    expect(res.body).toEqual({
      success: true,
      user: { id: user.id, username: user.username, email: user.email, createdAt: expect.any(String) },
    });
  });
});
