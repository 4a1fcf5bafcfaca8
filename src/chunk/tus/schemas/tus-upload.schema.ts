import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * @tus/file-store's per-upload info (its "configstore"), one document per upload id. The byte offset is not here:
 * the file store reads it from the size of the data file, so it is exactly what reached the disk.
 */
@Schema({ collection: 'tus_uploads', timestamps: true })
export class TusUpload {
  /** The tus upload id: every lookup is by `_id`, the one filter the embedded FerretDB answers from an index. */
  @Prop({ type: String, required: true })
  _id!: string;

  /** The tus upload id, which is also the MediaUpload `uploadId`. */
  @Prop({ required: true })
  uploadId!: string;

  /** The owner's id (MediaUpload.userId as a string); counts the bytes of deferred uploads against the quota. */
  @Prop({ type: String, index: true })
  userId?: string;

  /** Declared total length; null while the length is deferred. */
  @Prop({ type: Number, default: null })
  size!: number | null;

  /** The Upload-Metadata header value; kept as sent, since its keys are client-chosen and unsafe as field names. */
  @Prop({ type: String, default: null })
  metadata!: string | null;

  /** A final upload's `Upload-Concat` value (`final;<url> <url> …`), for its HEAD answer; null for any other. */
  @Prop({ type: String, default: null })
  concat!: string | null;

  /** ISO date @tus/server gave the upload at creation. */
  @Prop({ required: true })
  creationDate!: string;
}

export const TusUploadSchema = SchemaFactory.createForClass(TusUpload);
