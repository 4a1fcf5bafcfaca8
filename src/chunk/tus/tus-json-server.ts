import { Server } from '@tus/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, errorCodeForStatus } from '../../common/errors/error-code';

/** Codes for the plain-text errors @tus/server writes itself, before any hook runs. */
const CODES: Record<number, string> = { 400: 'INVALID_TUS_HEADER', 412: 'TUS_RESUMABLE_REQUIRED' };

type WriteArgs = Parameters<Server['write']>;

/**
 * @tus/server with every error in the shared JSON body. It answers a missing `Tus-Resumable` (412), malformed tus
 * headers (400) and unknown paths (404) with plain text from `write`, bypassing `onResponseError`; the API fuzzer
 * found those answers contradicting the spec. Errors that went through our hook are already JSON.
 */
export class TusJsonServer extends Server {
  override write(...[context, req, res, status, body = '', headers = {}]: WriteArgs) {
    if (status < 400 || isJson(res)) return super.write(context, req, res, status, body, headers);
    const request = req as IncomingMessage & { id?: unknown };
    const json = JSON.stringify({
      success: false,
      statusCode: status,
      error: CODES[status] ?? (status === 404 ? ErrorCode.NOT_FOUND : errorCodeForStatus(status)),
      message: body.trim() || 'Bad request',
      requestId: typeof request.id === 'string' ? request.id : '',
    });
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    return super.write(context, req, res, status, json, headers);
  }
}

function isJson(res: ServerResponse): boolean {
  return String(res.getHeader('Content-Type') ?? '').startsWith('application/json');
}
