import { HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../../common/errors/api-error';
import { contentDisposition } from './content-disposition';

/** A finished file, ready to be served. */
export interface MediaContent {
  size: number;
  mimeType: string;
  /** Strong validator: the file's SHA-256, quoted. */
  etag: string;
  lastModified: Date;
  /** The name a browser should save it under. */
  downloadName: string;
  open(range?: { start: number; end: number }): Readable;
  /** Default `private, no-cache`: revalidate with the ETag every time. */
  cacheControl?: string;
  /** Where a GET may fetch the bytes directly instead (S3_DOWNLOAD_MODE=redirect: a presigned URL). */
  redirectUrl?: string;
}

/** Whether an If-None-Match / If-Range list names this ETag (weak comparison, as RFC 9110 asks for If-None-Match). */
function matches(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/**
 * Serves a file with what players and browsers expect: 304 on a matching If-None-Match, a single byte range as 206
 * (416 when unsatisfiable; several ranges or a stale If-Range get the whole file), and headers that stop a browser
 * from reinterpreting the bytes.
 */
export async function sendMediaContent(req: Request, res: Response, content: MediaContent): Promise<void> {
  // HEAD stays here: a presigned URL is signed for GET only.
  if (content.redirectUrl && req.method === 'GET') {
    // The URL is per request and expires: no cache may keep the redirect.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Location', content.redirectUrl);
    res.status(HttpStatus.FOUND).end();
    return;
  }
  res.setHeader('ETag', content.etag);
  res.setHeader('Last-Modified', content.lastModified.toUTCString());
  res.setHeader('Cache-Control', content.cacheControl ?? 'private, no-cache');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Embeddable from any site (<img>, <video>, signed links above all); helmet's default `same-site` blocks them.
  // Reading the pixels (canvas, `crossorigin` players) still needs CORS, granted to CORS_ORIGINS only.
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');

  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && matches(ifNoneMatch, content.etag)) {
    res.status(HttpStatus.NOT_MODIFIED).end();
    return;
  }

  let range: { start: number; end: number } | undefined;
  const ifRange = req.get('if-range');
  if (req.headers.range && (!ifRange || matches(ifRange, content.etag))) {
    const ranges = req.range(content.size, { combine: true });
    if (ranges === -1) {
      res.setHeader('Content-Range', `bytes */${content.size}`);
      throw new ApiError(
        HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
        'RANGE_NOT_SATISFIABLE',
        `The range is outside the file (${content.size} bytes)`,
      );
    }
    // A malformed header (-2), another unit or several ranges: ignore it and send the whole file (RFC 9110 14.2).
    if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) range = ranges[0];
  }

  res.setHeader('Content-Type', content.mimeType);
  res.setHeader('Content-Disposition', contentDisposition('inline', content.downloadName));
  if (range) {
    res.status(HttpStatus.PARTIAL_CONTENT);
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${content.size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
  } else {
    res.status(HttpStatus.OK);
    res.setHeader('Content-Length', content.size);
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // A client that goes away mid-file is normal for players (seeking); just release the file.
  await pipeline(content.open(range), res).catch(() => res.destroy());
}
