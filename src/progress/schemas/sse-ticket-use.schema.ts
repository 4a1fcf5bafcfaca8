import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** A spent SSE ticket. The unique index makes "use once" atomic on any MongoDB-compatible server. */
@Schema({ collection: 'sse_ticket_uses', timestamps: false })
export class SseTicketUse {
  @Prop({ required: true })
  nonce!: string;

  /** When the ticket would have expired anyway; older rows can be deleted. */
  @Prop({ required: true })
  expiresAt!: Date;
}

export const SseTicketUseSchema = SchemaFactory.createForClass(SseTicketUse);
SseTicketUseSchema.index({ nonce: 1 }, { unique: true });
