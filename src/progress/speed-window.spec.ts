import { SpeedWindow } from './speed-window';

describe('SpeedWindow', () => {
  it('measures bytes per second over the recent window', () => {
    const window = new SpeedWindow(3000);
    for (let t = 0; t <= 2000; t += 200) window.record(t, t * 1000); // 1 MB/s
    expect(window.bytesPerSecond(2000)).toBe(1_000_000);
  });

  it('forgets samples older than the window, so a speed change shows quickly', () => {
    const window = new SpeedWindow(1000);
    for (let t = 0; t <= 5000; t += 200)
      window.record(t, t <= 3000 ? t * 1000 : 3_000_000 + (t - 3000) * 100);
    expect(window.bytesPerSecond(5000)).toBe(100_000);
  });

  it('reports 0 when nothing arrived for a whole window', () => {
    const window = new SpeedWindow(1000);
    window.record(0, 0);
    window.record(500, 500_000);
    expect(window.bytesPerSecond(5000)).toBe(0);
  });
});
