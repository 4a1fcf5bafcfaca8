import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { CapabilityOrJwtGuard } from '../common/guards/capability-or-jwt.guard';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { SseTicketService } from './sse-ticket.service';

/** The SSE route: a single-use `?ticket=` from POST …/events/ticket, or a bearer token. */
@Injectable()
export class SseAuthGuard extends CapabilityOrJwtGuard {
  constructor(
    private readonly tickets: SseTicketService,
    jwtGuard: JwtAuthGuard,
  ) {
    super(jwtGuard);
  }

  protected redeem(request: Request): Promise<string> | undefined {
    const ticket = request.query.ticket;
    return typeof ticket === 'string' ? this.tickets.redeem(ticket, String(request.params.id)) : undefined;
  }
}
