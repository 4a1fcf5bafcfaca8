import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';
import {
  MEDIA_CATEGORIES,
  MediaCategory,
  UPLOAD_SOURCES,
  UPLOAD_STATUSES,
  UploadSource,
  UploadStatus,
} from '../../common/uploads/upload-status';
import type { DerivedFiles, MediaMetadata, ProcessingState } from '../../processing';

export type MediaUploadDocument = HydratedDocument<MediaUpload>;

export const TUS_CONCAT_ROLES = ['partial', 'final'] as const;
export type TusConcatRole = (typeof TUS_CONCAT_ROLES)[number];

/** One record per upload, however it arrives (multipart, seed chunks or tus). */
@Schema({ timestamps: true, collection: 'media_uploads' })
export class MediaUpload {
  /** `<userId>:<uploadId>` (see ownedKey): every lookup of one upload is by this key. */
  @Prop({ type: String, required: true })
  _id!: string;

  /** Unique per user (a client may choose it with `X-Upload-Id`). */
  @Prop({ required: true })
  uploadId!: string;

  @Prop({ type: Types.ObjectId, ref: 'User', required: true })
  userId!: Types.ObjectId;

  @Prop({ type: String, required: true, enum: UPLOAD_SOURCES })
  source!: UploadSource;

  @Prop({ type: String, required: true, enum: MEDIA_CATEGORIES })
  fileType!: MediaCategory;

  @Prop({ default: '' })
  title!: string;

  @Prop({ default: '' })
  description!: string;

  @Prop({ type: Types.ObjectId })
  chatId?: Types.ObjectId;

  @Prop({ type: Types.ObjectId })
  groupId?: Types.ObjectId;

  /** The client's file name, for display only (control characters stripped). */
  @Prop()
  originalName?: string;

  /** Server-generated stored name: `<uploadId>.<sniffed ext>`. */
  @Prop()
  fileName?: string;

  /** Sniffed from the content, never taken from the client. */
  @Prop()
  mimeType?: string;

  @Prop()
  fileSize?: number;

  /** Declared total size, when the client declared one. */
  @Prop({ type: Number, default: null })
  expectedSize?: number | null;

  /** Relative path under the upload root: `media/<userId>/<uploadId>.<ext>`. */
  @Prop()
  storageKey?: string;

  @Prop()
  checksumSha256?: string;

  /** The authenticated content route. */
  @Prop()
  fileUrl?: string;

  /** What the content is, probed when the upload completed (see MediaMetadata). */
  @Prop({ type: Object })
  metadata?: MediaMetadata;

  /** The background work on a completed upload (thumbnails, poster, rendition); set when it completes. */
  @Prop({ type: Object })
  processing?: ProcessingState;

  /** The files made from this upload (see DerivedFiles), under `derived/<user>/<upload>/`. */
  @Prop({ type: Object })
  derived?: DerivedFiles;

  @Prop({ type: String, required: true, enum: UPLOAD_STATUSES, default: 'uploading' })
  status!: UploadStatus;

  /** Why the upload failed, was cancelled or expired. */
  @Prop()
  failureReason?: string;

  @Prop({ default: () => new Date() })
  uploadedAt!: Date;

  @Prop()
  completedAt?: Date;

  @Prop()
  cancelledAt?: Date;

  /** When an unfinished upload expires if nothing more arrives (moved forward on activity). */
  @Prop()
  expiresAt?: Date;

  /**
   * Its part in a tus concatenation: a `partial` upload is a slice of a file that never becomes media on its own
   * (hidden from the library); a `final` one was assembled from partial uploads.
   */
  @Prop({ type: String, enum: TUS_CONCAT_ROLES })
  concat?: TusConcatRole;

  createdAt!: Date;
  updatedAt!: Date;
}

export const MediaUploadSchema = SchemaFactory.createForClass(MediaUpload);
MediaUploadSchema.index({ userId: 1, uploadedAt: -1, _id: -1 });
MediaUploadSchema.index({ userId: 1, status: 1 });
MediaUploadSchema.index({ status: 1, expiresAt: 1 });
MediaUploadSchema.index({ chatId: 1 }, { sparse: true });
MediaUploadSchema.index({ 'processing.status': 1 }, { sparse: true });
