import type { ApiError } from '../common/errors/api-error';
import { quotaExceeded } from './quota-errors';

/** Where a reservation reports to: its ledger (this process, or Redis for every instance). */
export interface ReservationHooks {
  /** The reservation grew to `reservation.bytes`. */
  onGrow?(reservation: QuotaReservation): void;
  onRelease(reservation: QuotaReservation): void;
}

/**
 * Bytes one running request holds against its user's quota. It starts at the declared size (0 when unknown) and
 * grows as bytes stream in; a byte past the quota throws `QUOTA_EXCEEDED`, so an undeclared body is cut mid-stream.
 */
export class QuotaReservation {
  private held: number;
  private released = false;
  private refusal?: ApiError;

  constructor(
    /** Usage of the user without this request, when it started. */
    readonly baseline: number,
    private readonly limit: number,
    declared: number,
    private readonly hooks: ReservationHooks,
  ) {
    this.held = declared;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.released ? 0 : this.held;
  }

  /** Bytes still allowed on top of what is held (Infinity without a quota). */
  get room(): number {
    return this.limit > 0 ? Math.max(0, this.limit - this.baseline - this.held) : Infinity;
  }

  /** Counts bytes received beyond the declared size; throws once the quota would be exceeded. */
  grow(received: number): void {
    if (this.refusal) throw this.refusal;
    if (received <= this.held) return;
    if (this.limit > 0 && this.baseline + received > this.limit) {
      throw quotaExceeded(this.baseline, this.limit, received);
    }
    this.held = received;
    this.hooks.onGrow?.(this);
  }

  /**
   * The ledger found that what this reservation grew to no longer fits beside the user's other running uploads
   * (on other instances): its next `grow` throws `error`.
   */
  refuse(error: ApiError): void {
    this.refusal ??= error;
  }

  /** The request ended (its bytes are now in a record, or gone). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.hooks.onRelease(this);
  }
}
