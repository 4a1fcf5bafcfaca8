/** Driver errors that mean the database cannot be reached (not that the request was wrong). */
const UNREACHABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/**
 * True for errors that mean the database is down or unreachable: answered with 503 SERVICE_UNAVAILABLE (retry
 * later) instead of 500. Mongoose reports a command it buffered while disconnected as "buffering timed out".
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNREACHABLE.has(error.name) || isTransientDatabaseError(error)) return true;
  return error.name === 'MongooseError' && /buffering timed out/i.test(error.message);
}

/** FerretDB on SQLite refuses a write while another holds the database lock; trying again shortly succeeds. */
export function isTransientDatabaseError(error: unknown): boolean {
  return error instanceof Error && /SQLITE_BUSY|database is locked/i.test(error.message);
}

/**
 * Runs a database write that must not be lost (ending a record on a failure path), retrying transient lock
 * conflicts with a short backoff (20, 40, 80, 160, 320 ms). Other errors, and the last attempt's, are thrown.
 */
export async function withDatabaseRetry<T>(write: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts || !isTransientDatabaseError(error)) throw error;
      await new Promise((done) => setTimeout(done, 10 * 2 ** attempt));
    }
  }
}
