import { Global, Module } from '@nestjs/common';
import { MediaModule } from '../media';
import { ProgressModule } from '../progress';
import { UploadAbandoner } from './upload-abandoner';
import { UploadClaims } from './upload-claims';
import { UploadFinaliser } from './upload-finaliser';

/**
 * The upload core every protocol adapter (multipart, seed chunks, tus) runs on: claim, finalise and abandon. Global, like
 * QuotaModule, because MediaModule both provides the records it writes and hosts an adapter that uses it.
 */
@Global()
@Module({
  imports: [MediaModule, ProgressModule],
  providers: [UploadClaims, UploadFinaliser, UploadAbandoner],
  exports: [UploadClaims, UploadFinaliser, UploadAbandoner],
})
export class UploadCoreModule {}
