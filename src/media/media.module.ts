import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { JwtAuthGuard } from '../common/guards/jwt-auth.guard';
import { ProgressModule } from '../progress';
import { MediaContentGuard } from './library/media-content.guard';
import { MediaLibraryService } from './library/media-library.service';
import { MediaUrlSigner } from './library/media-url-signer.service';
import { MediaController } from './media.controller';
import { MediaRecordsService } from './media-records.service';
import { MediaUploadController } from './media-upload.controller';
import { MediaUploadService } from './upload/media-upload.service';
import { MediaUpload, MediaUploadSchema } from './schemas/media-upload.schema';

/** Single-request uploads (POST /api/upload/media) and the media library. Owns the media_uploads collection. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: MediaUpload.name, schema: MediaUploadSchema }]),
    ProgressModule,
  ],
  controllers: [MediaUploadController, MediaController],
  providers: [
    MediaRecordsService,
    MediaUploadService,
    MediaLibraryService,
    MediaUrlSigner,
    MediaContentGuard,
    JwtAuthGuard,
  ],
  exports: [MediaRecordsService],
})
export class MediaModule {}
