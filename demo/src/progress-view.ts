import { formatBytes, formatSeconds } from './format';

export interface ProgressSnapshot {
  /** 0-100. */
  percent: number;
  loaded: number;
  total: number | null;
  /** Bytes per second. */
  speed: number;
  /** Seconds left; null when unknown. */
  eta: number | null;
}

/** A <progress> bar with a "x of y · speed · ETA" line. The percent is mirrored in data-percent for tests. */
export class ProgressView {
  private readonly bar: HTMLProgressElement;
  private readonly text: HTMLElement;

  constructor(private readonly root: HTMLElement) {
    this.bar = root.querySelector('progress')!;
    this.text = root.querySelector('.progress-text')!;
  }

  reset(): void {
    this.show({ percent: 0, loaded: 0, total: null, speed: 0, eta: null });
    this.text.textContent = '';
  }

  show(p: ProgressSnapshot): void {
    const percent = Math.max(0, Math.min(100, p.percent));
    this.bar.value = percent;
    this.bar.setAttribute('aria-valuetext', `${percent.toFixed(0)} %`);
    this.root.dataset.percent = String(percent);
    const of = p.total === null ? '' : ` of ${formatBytes(p.total)}`;
    this.text.textContent =
      `${percent.toFixed(0)} % · ${formatBytes(p.loaded)}${of} · ${formatBytes(p.speed)}/s · ` +
      `ETA ${formatSeconds(p.eta)}`;
  }
}

/** Bytes per second over a sliding window of samples, for uploads the server does not report on yet. */
export class SpeedMeter {
  private samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 3000) {}

  add(totalBytes: number): number {
    const now = performance.now();
    this.samples.push({ at: now, bytes: totalBytes });
    while (this.samples.length > 2 && now - this.samples[0].at > this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const elapsed = (now - first.at) / 1000;
    return elapsed > 0 ? Math.max(0, (totalBytes - first.bytes) / elapsed) : 0;
  }
}
