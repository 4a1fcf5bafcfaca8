/** Receives one human-readable line. */
export type ProgressLog = (line: string) => void;

export interface BuildProgressOptions {
  /** What is being built, as it should read in a sentence: "FerretDB v1.24.2". */
  what: string;
  /** How long it usually takes, for the first line: "about 1-2 min". */
  expected: string;
  log: ProgressLog;
  /** How often to say it is still going. */
  everyMs?: number;
  now?: () => number;
}

/** Lets the build name the step it is in (said once with its detail), so the periodic line says more than "busy". */
export type SetPhase = (phase: string, detail?: string) => void;

/**
 * Runs a long one-time build (the embedded database on a fresh clone) and says what it is doing: one line when it
 * starts, with the usual duration, one every `everyMs` with the elapsed time and the current phase, and one when
 * it is ready or has failed. Without this, a first `npm start` is silent for a minute.
 */
export async function withBuildProgress<T>(
  { what, expected, log, everyMs = 10_000, now = Date.now }: BuildProgressOptions,
  build: (setPhase: SetPhase) => Promise<T>,
): Promise<T> {
  const started = now();
  const elapsed = () => `${Math.round((now() - started) / 1000)} s`;
  let phase = 'starting';
  log(`Building ${what} (first start only, ${expected}); progress every ${everyMs / 1000} s`);
  const ticker = setInterval(() => log(`Still building ${what}: ${elapsed()} so far, ${phase}`), everyMs);
  ticker.unref();
  try {
    const result = await build((next, detail) => {
      phase = next;
      log(`Building ${what}: ${next}${detail ? ` (${detail})` : ''}`);
    });
    log(`${what} is ready (built in ${elapsed()})`);
    return result;
  } catch (error) {
    log(`Building ${what} failed after ${elapsed()}`);
    throw error;
  } finally {
    clearInterval(ticker);
  }
}
