import type { IncomingMessage } from 'node:http';

export interface ThroughputRule {
  /** 0 turns the watch off. */
  minBytesPerSecond: number;
  windowMs: number;
}

/**
 * Calls `onTooSlow` once if, over a whole window, the client sent fewer than `minBytesPerSecond` × window bytes of
 * the request body. Bytes are counted on the socket (the body's consumers are left alone). A window in which the
 * server held unread bytes (a busy disk, a lock, a handler not reading yet) starts over: the client was not the
 * bottleneck. The watch ends by itself once the body is complete; the returned function ends it earlier.
 */
export function watchThroughput(
  req: IncomingMessage,
  rule: ThroughputRule,
  onTooSlow: () => void,
): () => void {
  if (rule.minBytesPerSecond <= 0) return () => undefined;
  const socket = req.socket;
  let windowStart = Date.now();
  let baseline = socket.bytesRead;
  const restart = (now: number) => {
    windowStart = now;
    baseline = socket.bytesRead;
  };
  const timer = setInterval(
    () => {
      if (req.complete || req.destroyed) return clearInterval(timer);
      const now = Date.now();
      if (req.readableLength > 0) return restart(now);
      const elapsedMs = now - windowStart;
      if (elapsedMs < rule.windowMs) return;
      if (socket.bytesRead - baseline < (rule.minBytesPerSecond * elapsedMs) / 1000) {
        clearInterval(timer);
        return onTooSlow();
      }
      restart(now);
    },
    Math.min(1000, rule.windowMs / 4),
  );
  timer.unref();
  return () => clearInterval(timer);
}
