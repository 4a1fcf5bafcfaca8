import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { CapabilityOrJwtGuard } from '../../common/guards/capability-or-jwt.guard';
import { JwtAuthGuard } from '../../common/guards/jwt-auth.guard';
import { MediaUrlSigner, SignedQuery } from './media-url-signer.service';

/** The content route: a signed link (`expires`, `uid`, `signature`), or a bearer token. */
@Injectable()
export class MediaContentGuard extends CapabilityOrJwtGuard {
  constructor(
    private readonly signer: MediaUrlSigner,
    jwtGuard: JwtAuthGuard,
  ) {
    super(jwtGuard);
  }

  protected redeem(request: Request): string | undefined {
    const query = request.query as SignedQuery;
    return this.signer.isSigned(query) ? this.signer.verify(String(request.params.id), query) : undefined;
  }
}
