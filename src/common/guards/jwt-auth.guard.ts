import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator';
import { ApiError } from '../errors/api-error';
import { ErrorCode } from '../errors/error-code';

/** The global guard: every route needs a valid bearer token unless it is marked `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    return isPublic ? true : super.canActivate(context);
  }

  /** Bearer-token authentication regardless of `@Public()`, for guards that accept it as one option. */
  authenticate(context: ExecutionContext) {
    return super.canActivate(context);
  }

  override handleRequest<TUser>(err: unknown, user: TUser | false, info: unknown): TUser {
    if (err instanceof ApiError) throw err;
    if (user) return user;
    throw tokenError(info);
  }
}

/** passport-jwt reports why a token failed through `info`: an Error from jsonwebtoken, or none at all. */
function tokenError(info: unknown): ApiError {
  const name = info instanceof Error ? info.name : undefined;
  if (name === 'TokenExpiredError') {
    return new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED, 'The access token has expired');
  }
  if (info instanceof Error && info.message === 'No auth token') {
    return new ApiError(
      HttpStatus.UNAUTHORIZED,
      ErrorCode.TOKEN_MISSING,
      'A bearer access token is required',
    );
  }
  return new ApiError(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_INVALID, 'The access token is invalid');
}
