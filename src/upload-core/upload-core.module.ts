import { Global, Module } from '@nestjs/common';
import { MediaModule } from '../media';
import { ProgressModule } from '../progress';
import { UploadAbandoner } from './upload-abandoner';
import { UploadFinaliser } from './upload-finaliser';

/**
 * The upload core every protocol adapter (multipart, seed chunks, tus) runs on: finalise and abandon. Global, like
 * QuotaModule, because MediaModule both provides the records it writes and hosts an adapter that uses it.
 */
@Global()
@Module({
  imports: [MediaModule, ProgressModule],
  providers: [UploadFinaliser, UploadAbandoner],
  exports: [UploadFinaliser, UploadAbandoner],
})
export class UploadCoreModule {}
