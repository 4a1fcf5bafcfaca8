import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';

interface LoginReply {
  status: number;
  retryAfter?: number;
  error?: string;
}

/** POST /api/auth/login from a chosen loopback address (127.0.0.0/8 all reach a server on 127.0.0.1). */
function loginFrom(url: string, address: string, login: string, password: string): Promise<LoginReply> {
  const body = JSON.stringify({ login, password });
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/auth/login`, {
      method: 'POST',
      localAddress: address,
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (piece: Buffer) => (text += piece.toString()));
      res.on('end', () => {
        const header = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: header === undefined ? undefined : Number(header),
          error: (JSON.parse(text) as { error?: string }).error,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const address = (n: number) => `127.0.0.${n}`;
const WRONG = 'not-the-password';

describe('Login throttling per account: growing delays, no lockout of the owner', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Small caps so the test can wait them out; the per-address flood limit is out of the way (its own spec).
    t = await createTestApp({ env: { LOGIN_MAX_DELAY: '900', LOGIN_ACCOUNT_MAX_DELAY: '2' } });
  });
  afterAll(() => t.close());

  it('after 5 failures from one address, that address waits (429, Retry-After) even with the right password; others do not', async () => {
    const user = await registerUser(t.url, 'pair');
    for (let i = 0; i < 5; i++) {
      expect((await loginFrom(t.url, address(2), user.username, WRONG)).status).toBe(401);
    }
    const refused = await loginFrom(t.url, address(2), user.username, user.password);
    expect(refused).toEqual({ status: 429, retryAfter: 1, error: 'TOO_MANY_REQUESTS' });
    // The same account from another address is not affected.
    expect((await loginFrom(t.url, address(3), user.username, WRONG)).status).toBe(401);
    expect((await loginFrom(t.url, address(4), user.username, user.password)).status).toBe(200);

    // Once the delay has passed, one more try is checked; failing doubles the delay.
    await sleep(refused.retryAfter! * 1000);
    expect((await loginFrom(t.url, address(2), user.username, WRONG)).status).toBe(401);
    expect(await loginFrom(t.url, address(2), user.username, user.password)).toMatchObject({
      status: 429,
      retryAfter: 2,
    });
    // The same for a login by email: it is the same account.
    expect((await loginFrom(t.url, address(2), user.email, user.password)).status).toBe(429);
  });

  it('300 guesses from 30 addresses: after 20 failures the account answers 429; the owner still logs in', async () => {
    const owner: TestUser = await registerUser(t.url, 'target');
    // The owner's usual address: known once they have logged in from it.
    expect((await loginFrom(t.url, address(200), owner.username, owner.password)).status).toBe(200);

    const statuses: Record<number, number> = {};
    const waits: number[] = [];
    for (let i = 0; i < 300; i++) {
      const reply = await loginFrom(t.url, address(10 + (i % 30)), owner.username, `guess-${i}`);
      statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
      if (reply.status === 429) waits.push(reply.retryAfter!);
    }
    // 20 free failures, then at most one checked guess per delay (1 s, then 2 s) while the loop runs.
    expect(statuses[401]).toBeGreaterThanOrEqual(20);
    expect(statuses[401]).toBeLessThan(30);
    expect(statuses[429]).toBe(300 - statuses[401]);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...waits)).toBeLessThanOrEqual(2);

    // From their usual address the owner is not slowed down at all.
    expect((await loginFrom(t.url, address(200), owner.username, owner.password)).status).toBe(200);
    // From a fresh address they wait at most LOGIN_ACCOUNT_MAX_DELAY, then get in.
    const fresh = await loginFrom(t.url, address(201), owner.username, owner.password);
    if (fresh.status === 429) {
      expect(fresh.retryAfter).toBeLessThanOrEqual(2);
      await sleep(fresh.retryAfter! * 1000);
    }
    expect((await loginFrom(t.url, address(201), owner.username, owner.password)).status).toBe(200);
  });

  it('throttles unknown names the same way, so the answers reveal nothing about which accounts exist', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await loginFrom(t.url, address(5), 'no_such_user', WRONG)).status).toBe(401);
    }
    expect(await loginFrom(t.url, address(5), 'no_such_user', WRONG)).toMatchObject({
      status: 429,
      retryAfter: 1,
    });
  });
});
