import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Types } from 'mongoose';

/**
 * A cancel asked of an upload whose bytes another instance holds. It is a document of its own rather than a flag
 * on UploadProgress, so the holder's progress writes can never overwrite it; the holder polls for it on its
 * persist tick, cancels, and deletes it.
 */
@Schema({ collection: 'upload_cancel_requests', timestamps: false })
export class CancelRequest {
  /** `<userId>:<uploadId>` (see ownedKey): one request per upload. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  uploadId!: string;

  @Prop({ type: Types.ObjectId, required: true })
  userId!: Types.ObjectId;

  @Prop({ required: true })
  requestedAt!: Date;
}

export const CancelRequestSchema = SchemaFactory.createForClass(CancelRequest);
