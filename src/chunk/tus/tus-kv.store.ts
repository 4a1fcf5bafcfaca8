import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Metadata, Upload, type KvStore } from '@tus/utils';
import { Model } from 'mongoose';
import { TusUpload } from './schemas/tus-upload.schema';
import { tusContext } from './tus-request-context';

/**
 * The file store's upload info in MongoDB, as the @tus/utils KvStore its `configstore` option takes (collection `tus_uploads`), so a restarted server resumes every
 * upload. A finished upload's document stays while its media exist, for its HEAD answer (size and metadata).
 * Each document is written only while the tus lock of its upload is held (create, declare length,
 * remove), which keeps FerretDB's unisolated updates safe.
 */
@Injectable()
export class TusKvStore implements KvStore<Upload> {
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

  /** `concat`: a final upload's Upload-Concat value (see TusUpload.concat). */
  async set(key: string, value: Upload, concat?: string): Promise<void> {
    // @tus/server passes only the upload; its owner is the caller of the request that creates it.
    const userId = tusContext()?.userId;
    const fields = {
      uploadId: key,
      ...(userId ? { userId } : {}),
      size: value.size ?? null,
      metadata: value.metadata ? Metadata.stringify(value.metadata) : null,
      creationDate: value.creation_date ?? new Date().toISOString(),
      ...(concat ? { concat } : {}),
    };
    await this.uploads.updateOne({ _id: key }, { $set: fields }, { upsert: true }).exec();
  }

  async delete(key: string): Promise<void> {
    await this.uploads.deleteOne({ _id: key }).exec();
  }

  /** A final upload's Upload-Concat value; undefined for any other upload. */
  async concatOf(key: string): Promise<string | undefined> {
    const doc = await this.uploads.findOne({ _id: key }, { concat: 1 }).lean<TusUpload>().exec();
    return doc?.concat ?? undefined;
  }

  /** The user's uploads whose length is still deferred. */
  async deferredIds(userId: string): Promise<string[]> {
    const docs = await this.uploads.find({ userId, size: null }, { uploadId: 1 }).lean<TusUpload[]>().exec();
    return docs.map((doc) => doc.uploadId);
  }

  async list(): Promise<string[]> {
    const docs = await this.uploads.find({}, { uploadId: 1 }).lean<TusUpload[]>().exec();
    return docs.map((doc) => doc.uploadId);
  }
}
