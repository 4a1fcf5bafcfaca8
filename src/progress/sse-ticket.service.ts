import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { randomBytes } from 'node:crypto';
import mongoose, { Model } from 'mongoose';
import { HmacSigner } from '../common/crypto/hmac-signer.service';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import type { AppConfig } from '../config';
import { SseTicketUse } from './schemas/sse-ticket-use.schema';

const PURPOSE = 'sse-ticket';

/**
 * Tickets let a browser's EventSource, which cannot send an Authorization header, open one progress stream
 * without putting the long-lived access token in a URL: each is bound to one user and one upload, expires
 * after SSE_TICKET_TTL seconds, and works once.
 */
@Injectable()
export class SseTicketService {
  readonly ttlSeconds: number;

  constructor(
    private readonly signer: HmacSigner,
    @InjectModel(SseTicketUse.name) private readonly uses: Model<SseTicketUse>,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlSeconds = config.get('uploads', { infer: true }).sseTicketTtlSeconds;
  }

  issue(userId: string, uploadId: string): string {
    const expires = String(Math.floor(Date.now() / 1000) + this.ttlSeconds);
    const nonce = randomBytes(12).toString('base64url');
    const signature = this.signer.sign(PURPOSE, userId, uploadId, expires, nonce);
    return [userId, expires, nonce, signature].join('.');
  }

  /** The user the ticket was issued to; throws 401 when it is forged, for another upload, expired or spent. */
  async redeem(ticket: string, uploadId: string): Promise<string> {
    const [userId, expires, nonce, signature, extra] = ticket.split('.');
    const valid =
      extra === undefined &&
      !!userId &&
      !!nonce &&
      !!signature &&
      /^\d{1,12}$/.test(expires ?? '') &&
      this.signer.verify(signature, PURPOSE, userId, uploadId, expires, nonce);
    if (!valid) throw invalid('The ticket is not valid for this upload');
    const expiresAt = new Date(Number(expires) * 1000);
    if (expiresAt.getTime() < Date.now()) throw invalid('The ticket has expired');
    try {
      await this.uses.create({ nonce, expiresAt });
    } catch (error) {
      if ((error as { code?: number }).code === 11000) throw invalid('The ticket was already used');
      throw error;
    }
    await this.uses
      .deleteMany({ expiresAt: mongoose.trusted({ $lt: new Date(Date.now() - 60_000) }) })
      .exec();
    return userId;
  }
}

function invalid(message: string): ApiError {
  return new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_INVALID, message);
}
