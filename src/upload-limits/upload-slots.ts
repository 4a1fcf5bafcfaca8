import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';

/** Gives back a slot; calling it again does nothing, so every ending of a request may call it. */
export type ReleaseSlot = () => void;

/**
 * How many upload bodies each user streams at once on this instance (MAX_CONCURRENT_UPLOADS_PER_USER). Counted in
 * process memory: with several instances each one counts on its own (see docs/security.md).
 */
@Injectable()
export class UploadSlots {
  readonly limit: number;
  private readonly inUse = new Map<string, number>();

  constructor(config: ConfigService<AppConfig, true>) {
    this.limit = config.get('uploadBodies', { infer: true }).maxConcurrentPerUser;
  }

  /** Takes one of the user's slots, or returns null when all are taken. */
  acquire(userId: string): ReleaseSlot | null {
    const used = this.inFlight(userId);
    if (used >= this.limit) return null;
    this.inUse.set(userId, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.inFlight(userId) - 1;
      if (left > 0) this.inUse.set(userId, left);
      else this.inUse.delete(userId);
    };
  }

  /** Upload bodies the user streams on this instance now. */
  inFlight(userId: string): number {
    return this.inUse.get(userId) ?? 0;
  }
}
