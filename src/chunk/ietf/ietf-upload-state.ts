import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { IetfUpload } from './schemas/ietf-upload.schema';

export type IetfUploadState = Pick<IetfUpload, 'inferCategory' | 'lengthKnown' | 'sha256'>;

/** The ietf_uploads collection: what an unfinished upload keeps between its requests (see IetfUpload). */
@Injectable()
export class IetfUploadStates {
  constructor(@InjectModel(IetfUpload.name) private readonly uploads: Model<IetfUpload>) {}

  async create(userId: string, uploadId: string, state: IetfUploadState): Promise<void> {
    await this.uploads.create({ _id: uploadId, userId, ...state });
  }

  async get(uploadId: string): Promise<IetfUploadState | null> {
    return this.uploads.findById(uploadId).lean<IetfUpload>().exec();
  }

  async lengthDeclared(uploadId: string): Promise<void> {
    await this.uploads.updateOne({ _id: uploadId }, { $set: { lengthKnown: true } }).exec();
  }

  async remove(uploadId: string): Promise<void> {
    await this.uploads.deleteOne({ _id: uploadId }).exec();
  }

  /** The user's unfinished uploads whose length is not known yet. */
  async deferredIds(userId: string): Promise<string[]> {
    const docs = await this.uploads
      .find({ userId, lengthKnown: false }, { _id: 1 })
      .lean<Pick<IetfUpload, '_id'>[]>()
      .exec();
    return docs.map((doc) => doc._id);
  }
}
