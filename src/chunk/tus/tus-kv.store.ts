import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Metadata, Upload } from '@tus/server';
import type { Configstore } from '@tus/file-store';
import { Model } from 'mongoose';
import { TusUpload } from './schemas/tus-upload.schema';

/**
 * The file store's upload info in MongoDB (collection `tus_uploads`), so a restarted server resumes every
 * upload. Each document is written only while the tus lock of its upload is held (create, declare length,
 * remove), which keeps FerretDB's unisolated updates safe.
 */
@Injectable()
export class TusKvStore implements Configstore {
  constructor(@InjectModel(TusUpload.name) private readonly uploads: Model<TusUpload>) {}

  async get(key: string): Promise<Upload | undefined> {
    const doc = await this.uploads.findOne({ _id: key }).lean<TusUpload>().exec();
    if (!doc) return undefined;
    return new Upload({
      id: doc.uploadId,
      size: doc.size ?? undefined,
      offset: 0,
      metadata: doc.metadata ? Metadata.parse(doc.metadata) : undefined,
      creation_date: doc.creationDate,
    });
  }

  async set(key: string, value: Upload): Promise<void> {
    const fields = {
      uploadId: key,
      size: value.size ?? null,
      metadata: value.metadata ? Metadata.stringify(value.metadata) : null,
      creationDate: value.creation_date ?? new Date().toISOString(),
    };
    await this.uploads.updateOne({ _id: key }, { $set: fields }, { upsert: true }).exec();
  }

  async delete(key: string): Promise<void> {
    await this.uploads.deleteOne({ _id: key }).exec();
  }

  async list(): Promise<string[]> {
    const docs = await this.uploads.find({}, { uploadId: 1 }).lean<TusUpload[]>().exec();
    return docs.map((doc) => doc.uploadId);
  }
}
