import type { Response } from 'express';
import { isFinalView, ProgressView } from './progress-view';

const HEARTBEAT_MS = 15_000;

export interface ProgressSource {
  /** Pushes views as they change; returns an unsubscribe function. */
  subscribe(push: (view: ProgressView) => void): () => void;
}

/**
 * Writes a Server-Sent Events stream of progress views: at most one event per `minIntervalMs` (the latest view
 * wins), a view equal to the last one never twice, the final view always (a terminal status and, for a completed
 * upload, processing done or failed), then an `end` event and the end of the response.
 */
export function streamProgress(
  res: Response,
  first: ProgressView,
  source: ProgressSource,
  minIntervalMs: number,
) {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no', // keep reverse proxies from buffering the stream
  });
  res.flushHeaders();

  let lastSent = 0;
  let pending: ProgressView | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // After completion, polls repeat the same view until processing moves on; clients hear of changes only.
  let lastData = '';

  const write = (view: ProgressView) => {
    lastSent = Date.now();
    lastData = JSON.stringify(view);
    res.write(`event: progress\nid: ${lastSent}\ndata: ${lastData}\n\n`);
    if (isFinalView(view)) close(view);
  };
  const flush = () => {
    timer = undefined;
    if (pending && !closed) write(pending);
    pending = undefined;
  };
  const push = (view: ProgressView) => {
    if (closed) return;
    if (JSON.stringify(view) === lastData) {
      pending = undefined; // back to what the client has: nothing to send
      return;
    }
    if (isFinalView(view)) {
      clearTimeout(timer);
      return write(view);
    }
    pending = view;
    const wait = lastSent + minIntervalMs - Date.now();
    if (wait <= 0) flush();
    else timer ??= setTimeout(flush, wait);
  };
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  let unsubscribe: () => void = () => undefined;
  function close(last?: ProgressView) {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    clearInterval(heartbeat);
    unsubscribe();
    if (last) res.end(`event: end\ndata: ${JSON.stringify({ status: last.status })}\n\n`);
  }

  res.on('close', () => close());
  write(first);
  if (!closed) unsubscribe = source.subscribe(push);
}
