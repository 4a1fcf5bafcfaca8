/**
 * Typed client for the Media Upload Service, generated from docs/openapi.json (`npm run client` regenerates
 * schema.d.ts). Every path, parameter and body is checked against the spec at compile time; the e2e tests in
 * test/client/ run it against the real server, so the spec is proven at run time too.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };
export type Schemas = components['schemas'];
export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** Origin of the service, e.g. `http://localhost:3000`; empty (the default) = same origin, for browsers. */
  baseUrl?: string;
  /** Returns the current access token, or undefined when logged out. Read on every request. */
  token?: () => string | undefined;
  /** A fetch implementation (tests, proxies); defaults to the global one. */
  fetch?: typeof globalThis.fetch;
}

/** A client whose requests carry `Authorization: Bearer <token>` whenever `token()` returns one. */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const bearer: Middleware = {
    onRequest({ request }) {
      const token = options.token?.();
      if (token && !request.headers.has('Authorization')) {
        request.headers.set('Authorization', `Bearer ${token}`);
      }
      return request;
    },
  };
  client.use(bearer);
  return client;
}

/** The shared error body of every 4xx/5xx answer. */
export type ApiErrorBody = Schemas['ErrorResponseDto'];

/** Reads `error.message` of an openapi-fetch failure for display; falls back to the HTTP status. */
export function errorMessage(error: unknown, response?: Response): string {
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') {
    return error.message;
  }
  return response ? `HTTP ${response.status}` : 'Network error';
}

/**
 * Request options that send `form` as multipart/form-data through the typed client: the body is typed as the
 * operation's documented fields, and the browser or Node sets the boundary. Append text fields before the file.
 */
export function multipart<T>(form: FormData): { body: T; bodySerializer: () => FormData } {
  return { body: form as unknown as T, bodySerializer: () => form };
}
