import request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';

describe('HTTP basics: error bodies, request ids, hardening headers, OpenAPI', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('puts a generated X-Request-Id on every response, and the same id in error bodies', async () => {
    const ok = await request(t.url).get('/api/health');
    const failed = await request(t.url).post('/api/auth/login').send({});

    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed.body.requestId).toBe(failed.headers['x-request-id']);
    expect(ok.headers['x-request-id']).not.toBe(failed.headers['x-request-id']);
  });

  it('keeps a well-formed client X-Request-Id and replaces a malformed one', async () => {
    const kept = await request(t.url).get('/api/health').set('X-Request-Id', 'client-trace.123');
    const replaced = await request(t.url).get('/api/health').set('X-Request-Id', 'bad id\twith spaces');

    expect(kept.headers['x-request-id']).toBe('client-trace.123');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON with 400 INVALID_JSON in the standard error body', async () => {
    const res = await request(t.url)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"login": "a", ');

    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      success: false,
      statusCode: 400,
      error: 'INVALID_JSON',
      message: 'The request body is not valid JSON',
      requestId: res.headers['x-request-id'],
    });
  });

  it('answers an oversize JSON body with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(t.url)
      .post('/api/auth/login')
      .send({ login: 'x'.repeat(200_000), password: 'y' });

    expect(res.status).toBe(413);
    expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers unknown routes with a 404 in the standard error body', async () => {
    const res = await request(t.url).get('/api/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, statusCode: 404, error: 'NOT_FOUND' });
  });

  it('sends helmet hardening headers and no X-Powered-By', async () => {
    const res = await request(t.url).get('/api/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sends Cache-Control: no-store on answers that carry tokens or user data (auth, media, progress)', async () => {
    const register = await request(t.url)
      .post('/api/auth/register')
      .send({ username: 'cache_user', email: 'cache_user@example.com', password: 'correct horse battery' })
      .expect(201);
    const auth = { Authorization: `Bearer ${register.body.accessToken}` };
    const answers: [string, request.Response][] = [
      ['register', register],
      [
        'login',
        await request(t.url)
          .post('/api/auth/login')
          .send({ login: 'cache_user', password: 'correct horse battery' }),
      ],
      ['me', await request(t.url).get('/api/auth/me').set(auth)],
      ['media list', await request(t.url).get('/api/media').set(auth)],
      ['media item', await request(t.url).get('/api/media/some-upload-id').set(auth)],
      ['progress', await request(t.url).get('/api/upload/progress/some-upload-id').set(auth)],
      ['health', await request(t.url).get('/api/health')],
    ];
    expect(answers.map(([name, res]) => [name, res.headers['cache-control']])).toEqual(
      answers.map(([name]) => [name, 'no-store']),
    );
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses a %s key in a JSON body with 400 VALIDATION_FAILED, like any other unknown key',
    async (key) => {
      const body = `{"login": "someone", "password": "whatever-password", "${key}": {"isAdmin": true}}`;
      const res = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send(body);
      const unknown = await request(t.url)
        .post('/api/auth/login')
        .send({ login: 'someone', password: 'whatever-password', other: { isAdmin: true } });

      expect(unknown.status).toBe(400);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: 'VALIDATION_FAILED',
        errors: { [key]: [`property ${key} should not exist`] },
      });
    },
  );

  it('refuses a __proto__ key in a query string the same way', async () => {
    const register = await request(t.url)
      .post('/api/auth/register')
      .send({ username: 'proto_query', email: 'proto_query@example.com', password: 'correct horse battery' })
      .expect(201);
    const res = await request(t.url)
      .get('/api/media?__proto__=x')
      .set('Authorization', `Bearer ${register.body.accessToken}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({ ['__proto__']: ['property __proto__ should not exist'] });
  });

  it('bounds header time and idle sockets but not the length of a slow upload', () => {
    const server = t.app.getHttpServer();
    expect(server.headersTimeout).toBe(20_000);
    expect(server.requestTimeout).toBe(0);
    expect(server.timeout).toBe(120_000);
  });

  it('GET /api/health reports the database, storage and disk checks', async () => {
    const res = await request(t.url).get('/api/health').expect(200);
    expect(res.body).toEqual({
      status: 'ok',
      checks: {
        database: { status: 'up', latencyMs: expect.any(Number) },
        storage: { status: 'up' },
        disk: { status: 'up', freeBytes: expect.any(Number), minFreeBytes: 0 },
      },
    });
  });

  it('renders Swagger UI at /api/docs and serves the spec with the bearer scheme at /api/docs-json', async () => {
    const ui = await request(t.url).get('/api/docs').expect(200);
    expect(ui.text).toMatch(/swagger-ui/i);

    const spec = await request(t.url).get('/api/docs-json').expect(200);
    expect(spec.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.body.paths['/api/auth/me'].get.security).toEqual([{ bearer: [] }]);
    expect(spec.body.paths['/api/auth/register'].post.operationId).toBe('register');
    // What generated clients inherit: a real server, public operations marked, an optional integer page size.
    expect(spec.body.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    for (const [path, method] of [
      ['/api/auth/register', 'post'],
      ['/api/auth/login', 'post'],
      ['/api/health', 'get'],
      ['/api/tus', 'options'],
      ['/api/tus/{id}', 'options'],
    ]) {
      expect({ path, method, security: spec.body.paths[path][method].security }).toEqual({
        path,
        method,
        security: [],
      });
    }
    // A signed link needs no header: a bearer token or nothing.
    expect(spec.body.paths['/api/media/{id}/content'].get.security).toEqual([{ bearer: [] }, {}]);
    const parameters = spec.body.paths['/api/media'].get.parameters as { name: string }[];
    const limit = parameters.find((parameter) => parameter.name === 'limit');
    expect(limit).toMatchObject({ required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } });
    for (const tag of spec.body.tags) expect(tag.description).toEqual(expect.any(String));
    for (const [path, item] of Object.entries(spec.body.paths as Record<string, Record<string, object>>)) {
      for (const [method, operation] of Object.entries(item)) {
        expect({ path, method, operation }).toEqual({
          path,
          method,
          operation: expect.objectContaining({
            summary: expect.any(String),
            description: expect.any(String),
          }),
        });
      }
    }
    // The CLI plugin turned DTO types and validators into schema properties.
    expect(spec.body.components.schemas.RegisterDto.properties.password).toMatchObject({
      type: 'string',
      minLength: 8,
      maxLength: 128,
    });
  });
});

describe('GET /api/health when a check fails', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { MIN_FREE_DISK_BYTES: String(Number.MAX_SAFE_INTEGER) } });
  });
  afterAll(() => t.close());

  it('answers 503 and names the failing check', async () => {
    const res = await request(t.url).get('/api/health').expect(503);
    expect(res.body.status).toBe('error');
    expect(res.body.checks.disk.status).toBe('down');
    expect(res.body.checks.database.status).toBe('up');
  });
});
