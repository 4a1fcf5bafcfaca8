import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import type { AuthUser } from '../common/decorators/current-user.decorator';
import { AllExceptionsFilter } from '../common/filters/all-exceptions.filter';
import type { AppConfig } from '../config';
import { ThroughputRule, watchThroughput } from './throughput-watch';
import { tooManyConcurrentUploads, uploadTooSlow } from './upload-limit-errors';
import { UploadSlots } from './upload-slots';

/** A request carries a body when it declares a non-zero length or is chunked (a tus POST may carry none). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * The limits every route that streams an upload body shares (see `@UploadBody()`): one of the user's
 * MAX_CONCURRENT_UPLOADS_PER_USER slots while the request lasts (429 past it), and a minimum throughput
 * (408 below it). Runs after the global JWT guard, so the user is known.
 */
@Injectable()
export class UploadBodyGuard implements CanActivate {
  private readonly rule: ThroughputRule;
  /** The shared error body even outside a handler: the answer to a stalled body is written from a timer. */
  private readonly errors = new AllExceptionsFilter();

  constructor(
    private readonly slots: UploadSlots,
    config: ConfigService<AppConfig, true>,
  ) {
    const limits = config.get('uploadBodies', { infer: true });
    this.rule = {
      minBytesPerSecond: limits.minBytesPerSecond,
      windowMs: limits.throughputWindowSeconds * 1000,
    };
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    if (!hasBody(req)) return true;
    const user = req.user as AuthUser | undefined;
    const releaseSlot = this.slots.acquire(user?.userId ?? `ip:${req.ip}`);
    if (!releaseSlot) {
      throw tooManyConcurrentUploads(this.slots.limit);
    }
    const stopWatch = watchThroughput(req, this.rule, () => this.endTooSlow(context, req, res));
    // 'close' follows every ending (answered, failed, aborted); 'finish' is there too, and releasing is idempotent.
    const release = () => {
      stopWatch();
      releaseSlot();
    };
    res.once('finish', release);
    res.once('close', release);
    return true;
  }

  /**
   * Answers 408 (when nothing was answered yet) and then drops the connection, so the upload is cleaned up by the
   * same path as a client that went away: a resumable upload keeps the bytes it stored.
   */
  private endTooSlow(context: ExecutionContext, req: Request, res: Response): void {
    const windowSeconds = this.rule.windowMs / 1000;
    this.errors.catch(uploadTooSlow(this.rule.minBytesPerSecond, windowSeconds), context);
    if (res.writableFinished || res.destroyed) req.destroy();
    else res.once('finish', () => req.destroy());
  }
}
