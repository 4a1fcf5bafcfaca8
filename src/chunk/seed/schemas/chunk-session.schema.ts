import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';
import {
  MEDIA_CATEGORIES,
  MediaCategory,
  UPLOAD_STATUSES,
  UploadStatus,
} from '../../../common/uploads/upload-status';

export type ChunkSessionDocument = HydratedDocument<ChunkSession>;

/**
 * State of one seed chunk session: a (userId, fileId) pair, unique, so a user's fileId never reaches another
 * user's session. Only the instance holding the session lock writes it (FerretDB: no concurrent updates).
 */
@Schema({ timestamps: true, collection: 'chunk_sessions' })
export class ChunkSession {
  /** `<userId>:<fileId>` (see ownedKey): every lookup of one session by its fileId is by this key. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Types.ObjectId, ref: 'User', required: true })
  userId!: Types.ObjectId;

  /** The client's id for the upload (validated; never used in a path). */
  @Prop({ required: true })
  fileId!: string;

  /** Server-generated: names the session folder, the MediaUpload and the progress record. */
  @Prop({ required: true })
  uploadId!: string;

  @Prop({ type: String, required: true, enum: UPLOAD_STATUSES, default: 'uploading' })
  status!: UploadStatus;

  @Prop({ type: String, required: true, enum: MEDIA_CATEGORIES })
  fileType!: MediaCategory;

  /** Declared number of chunks, once a client sends it. */
  @Prop({ type: Number, default: null })
  totalChunks!: number | null;

  /** Chunks 0..nextIndex-1 are in the assembly file; later ones wait as parts. */
  @Prop({ default: 0 })
  nextIndex!: number;

  /** Committed length of the assembly file; anything beyond it is an append that was never committed. */
  @Prop({ default: 0 })
  assembledBytes!: number;

  /** Bytes of every received chunk, assembled or waiting. */
  @Prop({ default: 0 })
  bytesReceived!: number;

  /** How many chunks were received (assembled or waiting), at most MAX_CHUNKS_PER_SESSION. */
  @Prop({ default: 0 })
  receivedCount!: number;

  /**
   * Committed length of the chunk manifest (`manifest` beside the bytes: one line per received chunk, see
   * ChunkManifest). The list lives there, not here, so a chunk's write does not grow with the session.
   */
  @Prop({ default: 0 })
  manifestBytes!: number;

  /** Size of the finished file. */
  @Prop()
  fileSize?: number;

  @Prop()
  storageKey?: string;

  @Prop()
  completedAt?: Date;

  /** Why it failed, was cancelled or expired. */
  @Prop()
  reason?: string;

  @Prop()
  expiresAt?: Date;

  createdAt!: Date;
  updatedAt!: Date;
}

export const ChunkSessionSchema = SchemaFactory.createForClass(ChunkSession);
ChunkSessionSchema.index({ userId: 1, uploadId: 1 }, { unique: true });
