import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../../config';

/**
 * Short-lived capabilities (SSE tickets, signed media URLs) signed with HMAC-SHA256. Each purpose gets its own key
 * derived from JWT_SECRET, so a signature made for one purpose is worthless for another.
 */
@Injectable()
export class HmacSigner {
  private readonly secret: string;

  constructor(config: ConfigService<AppConfig, true>) {
    this.secret = config.get('auth', { infer: true }).jwtSecret;
  }

  sign(purpose: string, ...fields: string[]): string {
    const key = createHmac('sha256', this.secret).update(`purpose:${purpose}`).digest();
    return createHmac('sha256', key).update(fields.join('\n')).digest('base64url');
  }

  verify(signature: string, purpose: string, ...fields: string[]): boolean {
    const expected = Buffer.from(this.sign(purpose, ...fields));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
