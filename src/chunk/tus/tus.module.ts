import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { MediaModule } from '../../media';
import { ProgressModule } from '../../progress';
import { TusUpload, TusUploadSchema } from './schemas/tus-upload.schema';
import { TusConcatService } from './tus-concat.service';
import { TusKvStore } from './tus-kv.store';
import { TusUploadsService } from './tus-uploads.service';
import { TusWriteRules } from './tus-write-rules';
import { TusController } from './tus.controller';
import { TusService } from './tus.service';

/** tus 1.0 at /api/tus, on @tus/server. Owns the tus_uploads collection. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: TusUpload.name, schema: TusUploadSchema }]),
    MediaModule,
    ProgressModule,
  ],
  controllers: [TusController],
  providers: [TusKvStore, TusWriteRules, TusUploadsService, TusConcatService, TusService],
})
export class TusModule {}
