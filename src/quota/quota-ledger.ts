import { quotaExceeded } from './quota-errors';
import { QuotaReservation } from './quota-reservation';

/**
 * The bytes running requests hold against their users' quotas. Used bytes (completed files, unfinished uploads'
 * records) come from the database; what is still streaming lives here: in this process, or in Redis so every
 * instance sees every other's (REDIS_URL). Abstract class so it is its own Nest injection token.
 */
export abstract class QuotaLedger {
  /** Bytes the user's running requests hold now. */
  abstract held(userId: string): Promise<number>;

  /**
   * Reserves `declared` bytes (0 when unknown) for a request about to stream, in one step with the check that
   * `usedBytes` + held + declared stays within `limitBytes` (0: no quota, only counts); 413 QUOTA_EXCEEDED else.
   */
  abstract open(
    userId: string,
    usedBytes: number,
    limitBytes: number,
    declared: number,
  ): Promise<QuotaReservation>;
}

/** The ledger of one instance: a set of running reservations per user (the behaviour without REDIS_URL). */
export class InProcessQuotaLedger extends QuotaLedger {
  private readonly live = new Map<string, Set<QuotaReservation>>();

  held(userId: string): Promise<number> {
    return Promise.resolve(this.heldNow(userId));
  }

  open(userId: string, usedBytes: number, limitBytes: number, declared: number): Promise<QuotaReservation> {
    const enabled = limitBytes > 0;
    const baseline = enabled ? usedBytes + this.heldNow(userId) : 0;
    if (enabled && baseline + declared > limitBytes) {
      return Promise.reject(quotaExceeded(baseline, limitBytes, declared));
    }
    const reservation = new QuotaReservation(baseline, limitBytes, declared, {
      onRelease: (ended) => {
        const held = this.live.get(userId);
        held?.delete(ended);
        if (held?.size === 0) this.live.delete(userId);
      },
    });
    if (enabled) {
      const held = this.live.get(userId) ?? new Set<QuotaReservation>();
      held.add(reservation);
      this.live.set(userId, held);
    }
    return Promise.resolve(reservation);
  }

  private heldNow(userId: string): number {
    let bytes = 0;
    for (const reservation of this.live.get(userId) ?? []) bytes += reservation.bytes;
    return bytes;
  }
}
