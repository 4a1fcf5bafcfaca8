import { HttpStatus } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../../common/errors/api-error';
import { TUS_PATH } from './tus-paths';

export const TUS_VERSION = '1.0.0';
const OFFSET_OCTETS = 'application/offset+octet-stream';
/** What `X-HTTP-Method-Override` may name: the methods a POST-only client cannot send. */
const OVERRIDABLE = ['PATCH', 'DELETE'];

/**
 * Refusals @tus/server gets wrong (a wrong Tus-Resumable is a 400 there, a PATCH's Content-Type 400) or does not
 * make: it takes a POST to any path as a creation, which would let a creation skip the creation route's rate limit,
 * and `X-HTTP-Method-Override` is ours to allow (1.x honoured it on any route; 2.x ignores it, and TusService applies
 * the one allowed here). Returns the error to answer with, or undefined to go on.
 */
export function refuseTusRequest(req: Request): ApiError | undefined {
  const override = req.get('X-HTTP-Method-Override');
  const path = req.path.replace(/\/$/, '');
  if (override !== undefined || (req.method === 'POST' && path !== TUS_PATH)) {
    const allowed =
      req.method === 'POST' && path !== TUS_PATH && OVERRIDABLE.includes(override?.toUpperCase() ?? '');
    if (!allowed) {
      return new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_TUS_HEADER',
        'Uploads are created with POST /api/tus; POST /api/tus/:id needs X-HTTP-Method-Override: PATCH or DELETE',
      );
    }
  }
  const method = override?.toUpperCase() ?? req.method;
  if (method === 'OPTIONS' || method === 'GET') return undefined;
  const version = req.get('Tus-Resumable');
  if (version !== undefined && version !== TUS_VERSION) {
    return new ApiError(
      HttpStatus.PRECONDITION_FAILED,
      'TUS_RESUMABLE_REQUIRED',
      `Tus-Resumable ${version} is not supported; this server speaks ${TUS_VERSION}`,
    );
  }
  if (method === 'PATCH' && req.get('Content-Type') !== OFFSET_OCTETS) {
    return new ApiError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'INVALID_CONTENT_TYPE',
      `A PATCH carries Content-Type: ${OFFSET_OCTETS}`,
    );
  }
  return undefined;
}
