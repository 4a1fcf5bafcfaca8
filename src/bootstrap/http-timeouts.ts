import type { Server } from 'node:http';

/** Headers must arrive within 20 s: a slow-loris client dribbling header bytes is cut off. */
export const HEADERS_TIMEOUT_MS = 20_000;
/** A connection with no bytes in either direction for 2 min is closed (SSE sends a heartbeat every 15 s). */
export const IDLE_SOCKET_TIMEOUT_MS = 120_000;

/**
 * Node's defaults end any request after 300 s (`requestTimeout`), which would kill a legitimate 500 MB upload
 * over a slow phone link. Uploads are instead bounded by inactivity: a stalled body dies after the idle timeout,
 * a slow but steady one may take as long as it needs.
 */
export function applyHttpTimeouts(
  server: Server,
  { headersTimeoutMs = HEADERS_TIMEOUT_MS, idleTimeoutMs = IDLE_SOCKET_TIMEOUT_MS } = {},
): void {
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = 0;
  server.setTimeout(idleTimeoutMs);
}
