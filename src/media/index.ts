export { MediaModule } from './media.module';
export * from './media-records.service';
export * from './mime-sniffer';
// What every upload protocol answers and checks the same way as the single-request upload.
export { MediaUploadResponseDto } from './dto/media-response.dto';
export { toUploadResponse } from './upload/upload-response';
export { unsupportedType } from './upload/upload-errors';
export { validateUploadFields } from './upload/upload-fields';
export { sanitizeOriginalName } from './upload/original-name';
