import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { MediaModule } from '../../media';
import { ProgressModule } from '../../progress';
import { IetfCompletion } from './ietf-completion';
import { IetfUploadLock } from './ietf-upload-lock';
import { IetfUploadStates } from './ietf-upload-state';
import { IetfUploadsService } from './ietf-uploads.service';
import { IetfWriteRules } from './ietf-write-rules';
import { IetfWriter } from './ietf-writer';
import { IetfController } from './ietf.controller';
import { IetfUpload, IetfUploadSchema } from './schemas/ietf-upload.schema';

/** The IETF draft "Resumable Uploads for HTTP" at /api/uploads. Owns the ietf_uploads collection. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: IetfUpload.name, schema: IetfUploadSchema }]),
    MediaModule,
    ProgressModule,
  ],
  controllers: [IetfController],
  providers: [
    IetfUploadStates,
    IetfUploadLock,
    IetfCompletion,
    IetfWriteRules,
    IetfWriter,
    IetfUploadsService,
  ],
})
export class IetfModule {}
