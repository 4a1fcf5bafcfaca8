import { Server } from '@tus/server';
import { ErrorCode, errorCodeForStatus } from '../../common/errors/error-code';
import { tusContext } from './tus-request-context';

/** Codes for the plain-text errors @tus/server writes itself, before any hook runs. */
const CODES: Record<number, string> = { 400: 'INVALID_TUS_HEADER', 412: 'TUS_RESUMABLE_REQUIRED' };

const JSON_TYPE = 'application/json; charset=utf-8';

type WriteArgs = Parameters<Server['write']>;

/**
 * @tus/server with every error in the shared JSON body. Every answer that is not a handler's success goes through
 * `write`: the errors our `onResponseError` mapped (already JSON) and the plain-text ones @tus/server makes itself
 * before any hook runs, a missing `Tus-Resumable` (412), malformed tus headers (400) and unknown methods (404); the
 * API fuzzer found those contradicting the spec. An answer a hook ended the request with (`TusEarlyAnswer`) gets
 * its headers here too: `onResponseError` in 2.x can only give a status and a body.
 */
export class TusJsonServer extends Server {
  override write(...[context, headers, status, body = '']: WriteArgs) {
    const tus = tusContext();
    for (const [name, value] of Object.entries(tus?.answerHeaders ?? {})) headers.set(name, value);
    if (status < 400) return super.write(context, headers, status, body);
    headers.set('Content-Type', JSON_TYPE);
    if (isJsonBody(body)) return super.write(context, headers, status, body);
    const requestId = tus?.req.id;
    const json = JSON.stringify({
      success: false,
      statusCode: status,
      error: CODES[status] ?? (status === 404 ? ErrorCode.NOT_FOUND : errorCodeForStatus(status)),
      message: body.trim() || 'Bad request',
      requestId: typeof requestId === 'string' ? requestId : '',
    });
    return super.write(context, headers, status, json);
  }
}

/** Whether `body` is already the shared error body (made by `tusErrorBody` in our `onResponseError`). */
function isJsonBody(body: string): boolean {
  return body.startsWith('{"success":false');
}
