import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { createSecretKey } from 'node:crypto';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthUser } from '../common/decorators/current-user.decorator';
import type { AppConfig } from '../config';
import { UsersService } from './users.service';

export interface JwtPayload {
  sub: string;
  username: string;
  exp?: number;
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
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
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
