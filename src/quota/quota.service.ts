import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { MediaRecordsService } from '../media/media-records.service';
import { quotaExceeded } from './quota-errors';
import { QuotaReservation } from './quota-reservation';

/** Bytes some kind of unfinished upload holds for a user (registered by the module that owns that state). */
export type UsageCounter = (userId: string) => Promise<number>;

/**
 * USER_QUOTA_BYTES: what one user may hold, completed files and in-flight uploads together. It is checked before a
 * byte is written when the size is declared (Content-Length, Upload-Length) and as bytes arrive otherwise.
 * Usage = completed files + declared sizes of unfinished uploads (MediaUpload records) + what other modules report
 * (chunk sessions) + requests streaming on this instance right now.
 */
@Injectable()
export class QuotaService {
  readonly limitBytes: number;
  private readonly counters = new Map<string, UsageCounter>();
  private readonly live = new Map<string, Set<QuotaReservation>>();

  constructor(
    private readonly records: MediaRecordsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.limitBytes = config.get('limits', { infer: true }).userQuotaBytes;
  }

  get enabled(): boolean {
    return this.limitBytes > 0;
  }

  /** Adds a source of in-flight bytes (called once per source at module init). */
  registerUsage(name: string, counter: UsageCounter): void {
    this.counters.set(name, counter);
  }

  /** Everything the user holds now, in bytes. */
  async usage(userId: string): Promise<number> {
    const counted = await Promise.all([
      this.records.usedBytes(userId),
      ...[...this.counters.values()].map((counter) => counter(userId)),
    ]);
    let streaming = 0;
    for (const reservation of this.live.get(userId) ?? []) streaming += reservation.bytes;
    return counted.reduce((sum, bytes) => sum + bytes, streaming);
  }

  /** Throws 413 QUOTA_EXCEEDED when `bytes` more would not fit. */
  async assertRoom(userId: string, bytes: number): Promise<void> {
    if (!this.enabled) return;
    const used = await this.usage(userId);
    if (used + bytes > this.limitBytes) throw quotaExceeded(used, this.limitBytes, bytes);
  }

  /**
   * Holds `declared` bytes (0 when unknown) for a request about to stream; 413 when they do not fit. Release it
   * when the request ends. Without a quota the reservation only counts.
   */
  async reserve(userId: string, declared: number): Promise<QuotaReservation> {
    const baseline = this.enabled ? await this.usage(userId) : 0;
    if (this.enabled && baseline + declared > this.limitBytes) {
      throw quotaExceeded(baseline, this.limitBytes, declared);
    }
    const reservation = new QuotaReservation(baseline, this.limitBytes, declared, (ended) => {
      const held = this.live.get(userId);
      held?.delete(ended);
      if (held?.size === 0) this.live.delete(userId);
    });
    if (this.enabled) {
      const held = this.live.get(userId) ?? new Set<QuotaReservation>();
      held.add(reservation);
      this.live.set(userId, held);
    }
    return reservation;
  }
}
