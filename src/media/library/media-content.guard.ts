import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../../common/decorators/current-user.decorator';
import { JwtAuthGuard } from '../../common/guards/jwt-auth.guard';
import { MediaUrlSigner, SignedQuery } from './media-url-signer.service';

/**
 * For the content route only (marked @Public so the global guard steps aside): a signed link
 * (`expires`, `uid`, `signature`) or a normal bearer token.
 */
@Injectable()
export class MediaContentGuard implements CanActivate {
  constructor(
    private readonly signer: MediaUrlSigner,
    private readonly jwtGuard: JwtAuthGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const query = request.query as SignedQuery;
    if (this.signer.isSigned(query)) {
      const userId = this.signer.verify(String(request.params.id), query);
      request.user = { userId, username: '' } satisfies AuthUser;
      return true;
    }
    return (await this.jwtGuard.authenticate(context)) as boolean;
  }
}
