import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ProgressModule } from '../progress/progress.module';
import { MediaRecordsService } from './media-records.service';
import { MediaUpload, MediaUploadSchema } from './schemas/media-upload.schema';

/** Single-request uploads (POST /api/upload/media) and the media library. Owns the media_uploads collection. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: MediaUpload.name, schema: MediaUploadSchema }]),
    ProgressModule,
  ],
  providers: [MediaRecordsService],
  exports: [MediaRecordsService],
})
export class MediaModule {}
