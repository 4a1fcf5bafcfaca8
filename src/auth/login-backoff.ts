/** How many failures are free, and the longest wait after that (the wait doubles with each failure). */
export interface BackoffPolicy {
  freeFailures: number;
  maxDelaySeconds: number;
}

export interface FailureRecord {
  failures: number;
  lastFailureAt: number;
}

/**
 * Seconds a client must wait after its last failure before the next try: none while failures are free, then 1, 2,
 * 4, … up to the cap.
 */
export function backoffDelaySeconds(failures: number, policy: BackoffPolicy): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.maxDelaySeconds, 2 ** (failures - policy.freeFailures));
}

/** Whole seconds left to wait at `now` (0: go ahead). */
export function secondsToWait(record: FailureRecord | undefined, policy: BackoffPolicy, now: number): number {
  if (!record) return 0;
  const until = record.lastFailureAt + backoffDelaySeconds(record.failures, policy) * 1000;
  return Math.max(0, Math.ceil((until - now) / 1000));
}

/**
 * A bounded map whose entries expire: where login failures live. In process memory for now; a shared store
 * (Redis) is another class with these three methods.
 */
export class ExpiringMap<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(
    /** Oldest entries are dropped past this size, so a spray of made-up names cannot exhaust memory. */
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
