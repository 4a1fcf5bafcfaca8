import { Global, Module } from '@nestjs/common';
import { UploadSlots } from './upload-slots';

/** Limits on upload bodies while they stream; global so every upload route can use `@UploadBody()`. */
@Global()
@Module({
  providers: [UploadSlots],
  exports: [UploadSlots],
})
export class UploadLimitsModule {}
