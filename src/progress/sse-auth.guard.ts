import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../common/decorators/current-user.decorator';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { SseTicketService } from './sse-ticket.service';

/**
 * For the SSE route only (marked @Public so the global guard steps aside): a `?ticket=` from
 * POST …/events/ticket, or a normal bearer token for clients that can send headers.
 */
@Injectable()
export class SseAuthGuard implements CanActivate {
  constructor(
    private readonly tickets: SseTicketService,
    private readonly jwtGuard: JwtAuthGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const ticket = request.query.ticket;
    if (typeof ticket === 'string') {
      const userId = await this.tickets.redeem(ticket, String(request.params.id));
      request.user = { userId, username: '' } satisfies AuthUser;
      return true;
    }
    return (await this.jwtGuard.authenticate(context)) as boolean;
  }
}
