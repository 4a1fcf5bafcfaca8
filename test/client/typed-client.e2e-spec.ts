import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createApiClient, multipart, type ApiClient, type Schemas } from '../../client';
import committedSpec from '../../docs/openapi.json';
import { mediaFixtures, type MediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../media/support/stored-state';
import { conformanceChecker } from './spec-conformance';
import { sortKeys } from '../../src/bootstrap/sort-keys';

describe('typed client (client/, generated from docs/openapi.json) against the real server', () => {
  let testApp: TestApp;
  let fixtures: MediaFixtures;
  let token: string | undefined;
  let api: ApiClient;
  const checker = conformanceChecker();

  beforeAll(async () => {
    fixtures = await mediaFixtures();
    testApp = await createTestApp();
    api = createApiClient({ baseUrl: testApp.url, token: () => token });
    api.use(checker.middleware);
  });

  afterAll(async () => {
    await testApp?.close();
  });

  afterEach(() => {
    // Every answer of every test: a documented status, and a JSON body that conforms to its documented schema.
    expect(checker.problems.splice(0)).toEqual([]);
  });

  async function signUp(): Promise<Schemas['AuthResponseDto']> {
    const username = `client_${randomBytes(4).toString('hex')}`;
    const { data, response } = await api.POST('/api/auth/register', {
      body: { username, email: `${username}@example.com`, password: 'correct horse battery' },
    });
    expect(response.status).toBe(201);
    token = data!.accessToken;
    return data!;
  }

  function mediaForm(fields: Record<string, string>, file: Blob, name: string): FormData {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append('file', file, name); // fields first, as the API asks
    return form;
  }

  it('serves at /api/docs-json exactly the committed docs/openapi.json', async () => {
    const served: unknown = await (await fetch(`${testApp.url}/api/docs-json`)).json();
    const committed: unknown = JSON.parse(await readFile(`${__dirname}/../../docs/openapi.json`, 'utf8'));
    expect(sortKeys(served)).toEqual(committed);
  });

  it('documents, for every operation, its 4xx answers with the error body, and bearer security where needed', () => {
    const spec = committedSpec as unknown as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            security?: unknown[];
            responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
          }
        >
      >;
    };
    // These answer no client error of their own: health reports problems as 503, OPTIONS is the resumable
    // protocols' discovery (tus, the IETF draft) and CORS preflight.
    const discovery = ['discoverTus', 'preflightTusUpload', 'discoverIetfUploads', 'preflightIetfUpload'];
    const no4xx = new Set(['getHealth', ...discovery]);
    const publicOps = new Set(['register', 'login', 'getHealth', ...discovery]);
    const problems: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path} (${op.operationId})`;
        const errors = Object.keys(op.responses).filter((status) => /^4\d\d$/.test(status));
        if (!no4xx.has(op.operationId) && errors.length === 0) problems.push(`${name}: no 4xx documented`);
        if (!publicOps.has(op.operationId) && !errors.includes('401'))
          problems.push(`${name}: no 401 documented`);
        const bearer = (op.security ?? []).some((entry) => Object.keys(entry as object).includes('bearer'));
        if (!publicOps.has(op.operationId) && !bearer) problems.push(`${name}: no bearer security`);
        if (publicOps.has(op.operationId) && bearer)
          problems.push(`${name}: public route documented as needing a token`);
        for (const status of errors) {
          const json = op.responses[status].content?.['application/json'];
          if (json?.schema?.$ref !== '#/components/schemas/ErrorResponseDto') {
            problems.push(`${name}: ${status} does not use the shared error body`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('registers, logs in and reads the profile; a missing or wrong token answers 401 with the error body', async () => {
    const registered = await signUp();
    expect(registered).toMatchObject({
      success: true,
      tokenType: 'Bearer',
      user: { id: expect.any(String) },
    });

    const login = await api.POST('/api/auth/login', {
      body: { login: registered.user.email, password: 'correct horse battery' },
    });
    expect(login.response.status).toBe(200);
    expect(login.data?.user.id).toBe(registered.user.id);

    const me = await api.GET('/api/auth/me');
    expect(me.data?.user).toEqual(registered.user);

    const saved = token;
    token = undefined;
    const anonymous = await api.GET('/api/auth/me');
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error).toMatchObject({ success: false, statusCode: 401, error: 'TOKEN_MISSING' });
    token = saved;

    const bad = await api.POST('/api/auth/login', {
      body: { login: registered.user.email, password: 'wrong password!' },
    });
    expect(bad.response.status).toBe(401);
    expect(bad.error?.error).toBe('INVALID_CREDENTIALS');

    const invalid = await api.POST('/api/auth/register', {
      body: { username: 'x', email: 'nope', password: '1' },
    });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error?.errors).toEqual(expect.objectContaining({ username: expect.any(Array) }));

    const health = await api.GET('/api/health');
    expect(health.data?.status).toBe('ok');
  });

  it('uploads media as multipart (FormData), then reads progress, lists, signs a link, fetches it and its thumbnail, deletes it', async () => {
    await signUp();
    const uploadId = `typed_${randomBytes(4).toString('hex')}`;
    const size = (await stat(fixtures.mp4)).size;
    const upload = await api.POST('/api/upload/media', {
      ...multipart<Schemas['MediaUploadBodyDto']>(
        mediaForm({ fileType: 'video', title: 'Typed' }, await openAsBlob(fixtures.mp4), 'clip.mp4'),
      ),
      params: { header: { 'X-Upload-Id': uploadId } },
    });
    expect(upload.response.status).toBe(201);
    expect(upload.data).toMatchObject({ uploadId, fileType: 'video', mimeType: 'video/mp4', fileSize: size });

    const progress = await api.GET('/api/upload/progress/{id}', { params: { path: { id: uploadId } } });
    expect(progress.data).toMatchObject({ status: 'completed', percentComplete: 100, source: 'multipart' });

    const ticket = await api.POST('/api/upload/progress/{id}/events/ticket', {
      params: { path: { id: uploadId } },
    });
    expect(ticket.data?.eventsUrl).toContain(`/api/upload/progress/${uploadId}/events?ticket=`);

    const list = await api.GET('/api/media', { params: { query: { fileType: 'video', limit: 10 } } });
    expect(list.data?.items.map((item) => item.uploadId)).toEqual([uploadId]);

    const one = await api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
    expect(one.data?.media.checksumSha256).toBe(upload.data?.checksumSha256);

    const signed = await api.POST('/api/media/{id}/signed-url', { params: { path: { id: uploadId } } });
    const content = await fetch(`${testApp.url}${signed.data!.url}`);
    expect(content.status).toBe(200);
    expect(Buffer.from(await content.arrayBuffer()).equals(await readFile(fixtures.mp4))).toBe(true);

    const range = await api.GET('/api/media/{id}/content', {
      params: { path: { id: uploadId } },
      headers: { Range: 'bytes=0-9' },
      parseAs: 'arrayBuffer',
    });
    expect(range.response.status).toBe(206);
    expect((range.data as ArrayBuffer).byteLength).toBe(10);

    // Once processing is done the record links the derived files; the thumbnail is a typed operation too.
    const processed = await waitFor(async () => {
      const { data } = await api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
      return data?.media.processing?.status === 'done' ? data.media : undefined;
    }, 'processing to finish');
    expect(processed.thumbnailUrl).toBe(`/api/media/${uploadId}/thumbnail`);
    const thumbnail = await api.GET('/api/media/{id}/thumbnail', {
      params: { path: { id: uploadId }, query: { size: 'small' } },
      parseAs: 'arrayBuffer',
    });
    expect(thumbnail.response.status).toBe(200);
    expect(thumbnail.response.headers.get('content-type')).toBe('image/webp');
    expect(
      Buffer.from(thumbnail.data as ArrayBuffer)
        .subarray(8, 12)
        .toString(),
    ).toBe('WEBP');

    const cancelDone = await api.POST('/api/upload/cancel/{id}', { params: { path: { id: uploadId } } });
    expect(cancelDone.response.status).toBe(409);
    expect(cancelDone.error?.error).toBe('UPLOAD_COMPLETED');

    const deleted = await api.DELETE('/api/media/{id}', { params: { path: { id: uploadId } } });
    expect(deleted.data).toEqual({ success: true, message: 'Media deleted', uploadId });
    const gone = await api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error?.error).toBe('NOT_FOUND');
  });

  it('refuses a file that is not media with 415 and a bad upload id with 400, both with the error body', async () => {
    await signUp();
    const text = new Blob(['just some text, not a video']);
    const refused = await api.POST('/api/upload/media', {
      ...multipart<Schemas['MediaUploadBodyDto']>(mediaForm({ fileType: 'video' }, text, 'clip.mp4')),
    });
    expect(refused.response.status).toBe(415);
    expect(refused.error?.error).toBe('UNSUPPORTED_MEDIA_TYPE');

    const badId = await api.GET('/api/upload/progress/{id}', { params: { path: { id: 'no' } } });
    expect(badId.response.status).toBe(400);
  });

  it('uploads a recording in chunks, follows its status, cancels another one mid-way', async () => {
    await signUp();
    const bytes = await readFile(fixtures.webm);
    const half = Math.ceil(bytes.length / 2);
    const parts = [bytes.subarray(0, half), bytes.subarray(half)];
    const fileId = `typed_${randomBytes(4).toString('hex')}`;
    const sendChunk = (chunkIndex: number, status: 'uploading' | 'completed', id = fileId) =>
      api.POST('/api/video/upload', {
        ...multipart<Schemas['UploadChunkBodyDto']>(
          mediaForm(
            { fileId: id, chunkIndex: String(chunkIndex), status, totalChunks: '2' },
            new Blob([parts[chunkIndex]]),
            `part${chunkIndex}`,
          ),
        ),
      });

    const first = await sendChunk(0, 'uploading');
    expect(first.data?.data).toMatchObject({ fileId, chunkIndex: 0, nextChunkIndex: 1, duplicate: false });
    const status = await api.GET('/api/video/status/{fileId}', { params: { path: { fileId } } });
    expect(status.data?.data).toMatchObject({
      exists: true,
      receivedChunks: [0],
      nextChunkIndex: 1,
      status: 'uploading',
    });
    const progress = await api.GET('/api/upload/progress/{id}', {
      params: { path: { id: first.data!.data.uploadId } },
    });
    expect(progress.data).toMatchObject({ source: 'chunked', status: 'uploading', percentComplete: 50 });

    const last = await sendChunk(1, 'completed');
    expect(last.data?.data).toMatchObject({
      status: 'completed',
      fileSize: bytes.length,
      mimeType: 'video/webm',
    });

    const other = `typed_${randomBytes(4).toString('hex')}`;
    const started = await sendChunk(0, 'uploading', other);
    const cancelled = await api.POST('/api/upload/cancel/{id}', {
      params: { path: { id: started.data!.data.uploadId } },
    });
    expect(cancelled.data).toMatchObject({ status: 'cancelled', message: 'Upload cancelled' });
    const after = await api.GET('/api/video/status/{fileId}', { params: { path: { fileId: other } } });
    expect(after.data?.data).toMatchObject({ status: 'cancelled', fileSize: 0 });

    const unknown = await api.GET('/api/video/status/{fileId}', {
      params: { path: { fileId: 'never_sent' } },
    });
    expect(unknown.data?.data).toMatchObject({ exists: false, receivedChunks: [], nextChunkIndex: 0 });
  });

  it('speaks tus through the documented operations: discover, create, offset, append', async () => {
    await signUp();
    const bytes = await readFile(fixtures.mp4);
    const tus = { 'Tus-Resumable': '1.0.0' };
    const options = await api.OPTIONS('/api/tus', { parseAs: 'text' });
    expect(options.response.status).toBe(204);
    expect(options.response.headers.get('tus-version')).toContain('1.0.0');

    const created = await api.POST('/api/tus', {
      params: {
        header: {
          ...tus,
          'Upload-Length': String(bytes.length),
          'Upload-Metadata': `filename ${Buffer.from('clip.mp4').toString('base64')},fileType ${Buffer.from('video').toString('base64')}`,
        },
      },
      parseAs: 'text',
    });
    expect(created.response.status).toBe(201);
    const id = created.response.headers.get('location')!.split('/').pop()!;

    const head = await api.HEAD('/api/tus/{id}', { params: { path: { id }, header: tus }, parseAs: 'text' });
    expect(head.response.headers.get('upload-offset')).toBe('0');

    const patched = await api.PATCH('/api/tus/{id}', {
      params: {
        path: { id },
        header: { ...tus, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      },
      // The spec types the binary body as a string; send the bytes as they are.
      body: bytes as unknown as string,
      bodySerializer: () => bytes,
      parseAs: 'text',
    });
    expect(patched.response.status).toBe(204);
    expect(patched.response.headers.get('upload-offset')).toBe(String(bytes.length));

    const media = await api.GET('/api/media/{id}', { params: { path: { id } } });
    expect(media.data?.media).toMatchObject({ source: 'tus', status: 'completed', fileSize: bytes.length });
  });

  it('checked every answer against the spec', () => {
    const operations = new Set(checker.checked.map((entry) => entry.operation));
    expect(operations.size).toBeGreaterThanOrEqual(15);
  });
});
