import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import type { Request } from 'express';
import { Strategy } from 'passport-jwt';
import type { AuthUser } from '../common/decorators/current-user.decorator';
import type { AppConfig } from '../config';
import { UsersService } from './users.service';

export interface JwtPayload {
  sub: string;
  username: string;
  exp?: number;
}

const BEARER = /^Bearer +(\S+)$/i;

/**
 * The token of `Authorization: Bearer <token>`. passport-jwt's own extractor reads the first two words, so
 * `Bearer A Bearer B` would authenticate as A; here anything but exactly one token after the scheme is passed on
 * whole, and fails verification (401 TOKEN_INVALID). Another scheme, or no header, is "no token".
 */
export function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header || !/^Bearer\s/i.test(header)) return null;
  return BEARER.exec(header)?.[1] ?? header;
}

/**
 * Verifies HS256 bearer tokens (no other algorithm, so `alg:none` and key-confusion tokens fail), their expiry,
 * issuer and audience, and that the user still exists.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly users: UsersService,
  ) {
    const auth = config.get('auth', { infer: true });
    super({
      jwtFromRequest: bearerToken,
      // A KeyObject: given a string, jsonwebtoken first tries (and fails) to parse it as a public key on every request.
      secretOrKey: createSecretKey(Buffer.from(auth.jwtSecret)) as unknown as string,
      algorithms: ['HS256'],
      issuer: auth.jwtIssuer,
      audience: auth.jwtAudience,
      ignoreExpiration: false,
    });
  }

  async validate(payload: JwtPayload): Promise<AuthUser | false> {
    // jsonwebtoken accepts a token without `exp`; ours always expire.
    if (typeof payload.exp !== 'number') return false;
    const user = await this.users.findProfile(payload.sub);
    return user ? { userId: user.id, username: user.username } : false;
  }
}
