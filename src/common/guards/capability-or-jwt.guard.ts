import { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../decorators/current-user.decorator';
import { JwtAuthGuard } from './jwt-auth.guard';

/**
 * For @Public routes that a URL capability can open (an SSE ticket, a signed media link), for clients that cannot
 * send headers; without one, a normal bearer token is required.
 */
export abstract class CapabilityOrJwtGuard implements CanActivate {
  constructor(private readonly jwtGuard: JwtAuthGuard) {}

  /** The user a capability in the request speaks for; undefined when it carries none; throws when it is invalid. */
  protected abstract redeem(request: Request): Promise<string | undefined> | string | undefined;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const userId = await this.redeem(request);
    if (userId === undefined) return (await this.jwtGuard.authenticate(context)) as boolean;
    request.user = { userId, username: '' } satisfies AuthUser;
    return true;
  }
}
