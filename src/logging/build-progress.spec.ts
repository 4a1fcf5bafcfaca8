import { withBuildProgress } from './build-progress';

describe('withBuildProgress', () => {
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
  });
  afterEach(() => jest.useRealTimers());

  it('says when a build starts, which phase it is in every interval, and when it is ready', async () => {
    const lines: string[] = [];
    let finish!: () => void;
    const built = withBuildProgress(
      { what: 'FerretDB v1', expected: 'usually 1-3 min', log: (l) => lines.push(l), everyMs: 10_000, now },
      async (setPhase) => {
        setPhase('compiling', 'go build');
        await new Promise<void>((done) => (finish = done));
        return 'binary';
      },
    );
    clock = 10_000;
    jest.advanceTimersByTime(10_000);
    clock = 20_000;
    jest.advanceTimersByTime(10_000);
    clock = 25_400;
    finish();
    await expect(built).resolves.toBe('binary');
    jest.advanceTimersByTime(30_000);
    expect(lines).toEqual([
      'Building FerretDB v1 (first start only, usually 1-3 min); progress every 10 s',
      'Building FerretDB v1: compiling (go build)',
      'Still building FerretDB v1: 10 s so far, compiling',
      'Still building FerretDB v1: 20 s so far, compiling',
      'FerretDB v1 is ready (built in 25 s)',
    ]);
  });

  it('says when a build fails, rethrows, and stops reporting', async () => {
    const lines: string[] = [];
    const failed = withBuildProgress({ what: 'X', expected: 'soon', log: (l) => lines.push(l), now }, () => {
      clock = 3_000;
      return Promise.reject(new Error('go: not found'));
    });
    await expect(failed).rejects.toThrow('go: not found');
    jest.advanceTimersByTime(60_000);
    expect(lines).toEqual([
      'Building X (first start only, soon); progress every 10 s',
      'Building X failed after 3 s',
    ]);
  });
});
