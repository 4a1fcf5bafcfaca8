import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HmacSigner } from '../../common/crypto/hmac-signer.service';
import { ApiError } from '../../common/errors/api-error';
import type { AppConfig } from '../../config';

const PURPOSE = 'media-content';

/** The signed-link parameters as they arrive in the query string. */
export interface SignedQuery {
  expires?: unknown;
  uid?: unknown;
  signature?: unknown;
}

/**
 * Short-lived links to a media file for players that cannot send an Authorization header (a <video> tag, a
 * native player, an <img>): the route plus `expires`, `uid` and an HMAC over (upload id, uid, expires).
 */
@Injectable()
export class MediaUrlSigner {
  private readonly ttlSeconds: number;

  constructor(
    private readonly signer: HmacSigner,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlSeconds = config.get('uploads', { infer: true }).signedUrlTtlSeconds;
  }

  /**
   * The signed query for one upload: it opens every route of that upload under `/api/media/:id/` that takes signed
   * links (content, thumbnail, poster, rendition), and no other upload's.
   */
  sign(userId: string, uploadId: string): { query: string; expiresAt: Date } {
    const expires = String(Math.floor(Date.now() / 1000) + this.ttlSeconds);
    const signature = this.signer.sign(PURPOSE, uploadId, userId, expires);
    return {
      query: new URLSearchParams({ expires, uid: userId, signature }).toString(),
      expiresAt: new Date(Number(expires) * 1000),
    };
  }

  /** Whether the query carries signed-link parameters at all. */
  isSigned(query: SignedQuery): boolean {
    return query.signature !== undefined || query.expires !== undefined || query.uid !== undefined;
  }

  /** The user the link was issued to; 403 when it is forged, altered, for another file, or expired. */
  verify(uploadId: string, query: SignedQuery): string {
    const { expires, uid, signature } = query;
    const valid =
      typeof expires === 'string' &&
      typeof uid === 'string' &&
      typeof signature === 'string' &&
      /^\d{1,12}$/.test(expires) &&
      this.signer.verify(signature, PURPOSE, uploadId, uid, expires);
    if (!valid) {
      throw new ApiError(HttpStatus.FORBIDDEN, 'SIGNATURE_INVALID', 'The signed link is not valid');
    }
    if (Number(expires) * 1000 < Date.now()) {
      throw new ApiError(HttpStatus.FORBIDDEN, 'SIGNATURE_EXPIRED', 'The signed link has expired');
    }
    return uid;
  }
}

/** `url` (a route of the upload the query was signed for) with the signed query added. */
export function withSignedQuery(url: string, query: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}
