/** Transfer speed over a sliding time window, from (time, total bytes) samples. */
export class SpeedWindow {
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly windowMs = 3000) {}

  record(at: number, bytes: number): void {
    const last = this.samples[this.samples.length - 1];
    // One sample per 100 ms is plenty for a 3 s window, and keeps the hot path cheap.
    if (last && at - last.at < 100) {
      last.bytes = bytes;
      return;
    }
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && this.samples[0].at < at - this.windowMs) this.samples.shift();
  }

  /** Bytes per second; 0 when idle for a whole window or with too little data. */
  bytesPerSecond(now: number): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || now - last.at > this.windowMs) return 0;
    const elapsed = Math.max(now - first.at, 1);
    return Math.round(((last.bytes - first.bytes) * 1000) / elapsed);
  }
}
