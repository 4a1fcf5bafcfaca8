import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * What an unfinished IETF-draft upload keeps beside its MediaUpload record, from its creation request to its
 * completion: removed when the upload completes or ends. Its offset is not here: it is the stored bytes' length.
 */
@Schema({ collection: 'ietf_uploads', timestamps: true })
export class IetfUpload {
  /** The upload id (MediaUpload.uploadId): every lookup is by `_id`, which the embedded FerretDB indexes. */
  @Prop({ type: String, required: true })
  _id!: string;

  /** The owner's id (MediaUpload.userId as a string). */
  @Prop({ type: String, required: true, index: true })
  userId!: string;

  /** No category was declared (no X-File-Type, no image/* or video/* Content-Type): the content decides it. */
  @Prop({ type: Boolean, default: false })
  inferCategory!: boolean;

  /** Whether the length is known: until then the stored bytes count against the quota as they arrive. */
  @Prop({ type: Boolean, default: false })
  lengthKnown!: boolean;

  /** The SHA-256 (hex) of the `Repr-Digest` sent at creation, checked once the upload completes. */
  @Prop({ type: String, default: null })
  sha256!: string | null;
}

export const IetfUploadSchema = SchemaFactory.createForClass(IetfUpload);
