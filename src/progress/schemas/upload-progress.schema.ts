import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';
import {
  UPLOAD_SOURCES,
  UPLOAD_STATUSES,
  UploadSource,
  UploadStatus,
} from '../../common/uploads/upload-status';
import type { ProcessingProgress } from '../progress-view';

export type UploadProgressDocument = HydratedDocument<UploadProgress>;

/**
 * One per upload. Written only by the instance that holds the upload's bytes (at a bounded rate), so there is
 * never a concurrent read-modify-write of one document (see docs/architecture.md).
 */
@Schema({ collection: 'upload_progress', timestamps: false })
export class UploadProgress {
  /** `<userId>:<uploadId>` (see ownedKey): every lookup of one upload is by this key. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  uploadId!: string;

  @Prop({ type: Types.ObjectId, required: true })
  userId!: Types.ObjectId;

  @Prop({ type: String, required: true, enum: UPLOAD_SOURCES })
  source!: UploadSource;

  @Prop({ default: 0 })
  bytesUploaded!: number;

  @Prop({ type: Number, default: null })
  totalBytes!: number | null;

  /** True while totalBytes is only an upper bound (a multipart body's length); absent on older records. */
  @Prop({ default: false })
  totalIsEstimate?: boolean;

  @Prop({ default: 0 })
  percentComplete!: number;

  /** Bytes per second over the last few seconds. */
  @Prop({ default: 0 })
  speed!: number;

  /** Seconds left at the current speed; null when unknown. */
  @Prop({ type: Number, default: null })
  remainingTime!: number | null;

  @Prop({ type: String, required: true, enum: UPLOAD_STATUSES })
  status!: UploadStatus;

  @Prop()
  reason?: string;

  @Prop({ required: true })
  startTime!: Date;

  @Prop({ required: true })
  lastUpdateTime!: Date;

  @Prop({ type: Date, default: null })
  completedTime!: Date | null;

  /**
   * Where the processing of a completed upload stands: `pending` from the completing write, then whatever the
   * processing runner reports (it writes only this field, so it never races the holder's progress writes).
   */
  @Prop({ type: Object })
  processing?: ProcessingProgress | null;
}

export const UploadProgressSchema = SchemaFactory.createForClass(UploadProgress);
