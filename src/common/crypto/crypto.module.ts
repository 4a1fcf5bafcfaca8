import { Global, Module } from '@nestjs/common';
import { HmacSigner } from './hmac-signer.service';

@Global()
@Module({ providers: [HmacSigner], exports: [HmacSigner] })
export class CryptoModule {}
