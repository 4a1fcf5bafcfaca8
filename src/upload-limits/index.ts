export { UploadBody } from './upload-body.decorator';
export { UploadLimitsModule } from './upload-limits.module';
export { UploadSlots } from './upload-slots';
