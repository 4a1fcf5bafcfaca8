import { randomBytes } from 'node:crypto';
import request from 'supertest';

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
  token: string;
  auth: { Authorization: string };
}

/** Registers a fresh user through the API and returns its token. */
export async function registerUser(url: string, prefix = 'user'): Promise<TestUser> {
  const username = `${prefix}_${randomBytes(4).toString('hex')}`;
  const email = `${username}@example.com`;
  const password = 'correct horse battery';
  const res = await request(url).post('/api/auth/register').send({ username, email, password }).expect(201);
  const body = res.body as { user: { id: string }; accessToken: string };
  return {
    id: body.user.id,
    username,
    email,
    password,
    token: body.accessToken,
    auth: { Authorization: `Bearer ${body.accessToken}` },
  };
}
