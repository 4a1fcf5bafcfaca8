import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import type { AuthUser } from '../common/decorators/current-user.decorator';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';

/**
 * ThrottlerGuard with our identity and error shape. The client is the authenticated user when there is one (the
 * global JWT guard ran first), so users behind one NAT do not share a budget; otherwise it is `req.ip`, which
 * Express derives from X-Forwarded-For only for the hops TRUST_PROXY trusts, so a client cannot pick its own key.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const user = req.user as AuthUser | undefined;
    if (user?.userId) return Promise.resolve(`user:${user.userId}`);
    return Promise.resolve(`ip:${(req as unknown as Request).ip ?? 'unknown'}`);
  }

  /** 429 in the shared error body; the filter turns `retryAfter` into the standard `Retry-After` header. */
  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw new ApiError(
      HttpStatus.TOO_MANY_REQUESTS,
      ErrorCode.TOO_MANY_REQUESTS,
      `Too many requests; retry in ${retryAfter} s`,
      { retryAfter },
    );
  }
}
