import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { UPLOAD_ID_PATTERN } from '../../common/uploads/upload-status';
import { TUS_PATH } from './tus-paths';

/** A final upload names at most this many partial uploads (tus-js-client sends one per parallel request). */
export const MAX_PARTIALS = 100;

/** 400 for an `Upload-Concat` request that cannot be served as sent. */
export function invalidConcat(message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_UPLOAD_CONCAT', message);
}

/**
 * The upload ids a final upload's `Upload-Concat: final;<url> <url> …` names, in order. Each URL is absolute or a
 * path, and must be an upload URL of this server's tus endpoint; the same upload twice is refused, as it would
 * concatenate its bytes twice.
 */
export function partialIdsOf(header: string): string[] {
  if (!header.startsWith('final;')) {
    throw invalidConcat('Upload-Concat is `partial` or `final;<url> <url> …`');
  }
  const urls = header.slice('final;'.length).trim().split(/ +/).filter(Boolean);
  if (urls.length === 0) throw invalidConcat('Upload-Concat: final; names no partial upload');
  if (urls.length > MAX_PARTIALS) {
    throw invalidConcat(`A final upload concatenates at most ${MAX_PARTIALS} partial uploads`);
  }
  const ids = urls.map(idOf);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated) throw invalidConcat(`Upload-Concat names the partial upload ${repeated} more than once`);
  return ids;
}

function idOf(url: string): string {
  let path: string;
  try {
    // The base only resolves a path; an absolute URL keeps its own host (a proxy may have rewritten it).
    path = new URL(url, 'http://localhost').pathname.replace(/\/$/, '');
  } catch {
    throw invalidConcat(`${url} is not a URL`);
  }
  // PUBLIC_URL may put a path before the tus endpoint's.
  const at = path.lastIndexOf(`${TUS_PATH}/`);
  const id = at >= 0 ? path.slice(at + TUS_PATH.length + 1) : '';
  if (!UPLOAD_ID_PATTERN.test(id)) throw invalidConcat(`${url} is not a tus upload URL of this server`);
  return id;
}
