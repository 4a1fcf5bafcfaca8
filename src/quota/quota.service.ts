import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
// eslint-disable-next-line no-restricted-imports -- require cycle: media's barrel loads MediaModule, which imports quota
import { MediaRecordsService } from '../media/media-records.service';
import { quotaExceeded } from './quota-errors';
import { QuotaLedger } from './quota-ledger';
import { QuotaReservation } from './quota-reservation';

/** Bytes some kind of unfinished upload holds for a user (registered by the module that owns that state). */
export type UsageCounter = (userId: string) => Promise<number>;

/**
 * USER_QUOTA_BYTES: what one user may hold, completed files and in-flight uploads together. It is checked before a
 * byte is written when the size is declared (Content-Length, Upload-Length) and as bytes arrive otherwise.
 * Usage = completed files + declared sizes of unfinished uploads (MediaUpload records) + what other modules report
 * (chunk sessions) + requests streaming right now (QuotaLedger: on this instance, or on every instance with
 * REDIS_URL).
 */
@Injectable()
export class QuotaService {
  readonly limitBytes: number;
  private readonly counters = new Map<string, UsageCounter>();

  constructor(
    private readonly records: MediaRecordsService,
    private readonly ledger: QuotaLedger,
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
    const [stored, streaming] = await Promise.all([this.storedUsage(userId), this.ledger.held(userId)]);
    return stored + streaming;
  }

  /** What the database knows the user holds: completed files and unfinished uploads' records. */
  private async storedUsage(userId: string): Promise<number> {
    const counted = await Promise.all([
      this.records.usedBytes(userId),
      ...[...this.counters.values()].map((counter) => counter(userId)),
    ]);
    return counted.reduce((sum, bytes) => sum + bytes, 0);
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
    const stored = this.enabled ? await this.storedUsage(userId) : 0;
    return this.ledger.open(userId, stored, this.limitBytes, declared);
  }
}
