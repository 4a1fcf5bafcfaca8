import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { streamProgress } from './progress-stream';
import { ProgressView } from './progress-view';

class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  ended = false;
  headers: Record<string, string> = {};
  statusCode = 0;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  set(headers: Record<string, string>) {
    Object.assign(this.headers, headers);
    return this;
  }
  flushHeaders() {}
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end(chunk?: string) {
    if (chunk) this.chunks.push(chunk);
    this.ended = true;
  }
  events() {
    return this.chunks.filter((chunk) => chunk.startsWith('event:')).map((chunk) => chunk.split('\n')[0]);
  }
}

const view = (
  bytes: number,
  status: ProgressView['status'] = 'uploading',
  processing: ProgressView['processing'] = null,
): ProgressView => ({
  success: true,
  uploadId: 'u',
  source: 'multipart',
  bytesUploaded: bytes,
  totalBytes: 100,
  totalIsEstimate: false,
  percentComplete: bytes,
  status,
  speed: 0,
  remainingTime: null,
  startTime: new Date(),
  lastUpdateTime: new Date(),
  completedTime: null,
  reason: null,
  processing,
});

describe('streamProgress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends the first view at once, throttles the rest to the latest one, and ends after the terminal view', () => {
    const res = new FakeResponse();
    let push: (v: ProgressView) => void = () => undefined;
    const unsubscribe = jest.fn();
    streamProgress(res as unknown as Response, view(0), { subscribe: (p) => ((push = p), unsubscribe) }, 250);

    push(view(10));
    push(view(20));
    push(view(30));
    expect(res.events()).toEqual(['event: progress']);
    jest.advanceTimersByTime(250);
    expect(res.chunks.filter((c) => c.includes('"bytesUploaded":30'))).toHaveLength(1);
    expect(res.chunks.some((c) => c.includes('"bytesUploaded":20'))).toBe(false);

    push(view(100, 'completed'));
    expect(res.events()).toEqual(['event: progress', 'event: progress', 'event: progress', 'event: end']);
    expect(res.ended).toBe(true);
    expect(unsubscribe).toHaveBeenCalled();
    expect(res.headers['Content-Type']).toMatch(/text\/event-stream/);
  });

  it('stays open after completion while processing runs, skips repeated views, and ends once processing is done', () => {
    const res = new FakeResponse();
    let push: (v: ProgressView) => void = () => undefined;
    const unsubscribe = jest.fn();
    const completed = (processing: ProgressView['processing']) => ({
      ...view(100, 'completed', processing),
      lastUpdateTime: new Date(0),
      startTime: new Date(0),
    });
    streamProgress(
      res as unknown as Response,
      completed({ status: 'pending' }),
      { subscribe: (p) => ((push = p), unsubscribe) },
      250,
    );
    push(completed({ status: 'pending' }));
    jest.advanceTimersByTime(250);
    expect(res.events()).toEqual(['event: progress']);

    push(completed({ status: 'running' }));
    jest.advanceTimersByTime(250);
    push(completed({ status: 'running' }));
    jest.advanceTimersByTime(250);
    expect(res.events()).toEqual(['event: progress', 'event: progress']);
    expect(res.ended).toBe(false);

    push(completed({ status: 'done' }));
    expect(res.events()).toEqual(['event: progress', 'event: progress', 'event: progress', 'event: end']);
    expect(res.chunks[res.chunks.length - 1]).toContain('{"status":"completed"}');
    expect(unsubscribe).toHaveBeenCalled();
  });

  it('ends at once when the upload is already over', () => {
    const res = new FakeResponse();
    const subscribe = jest.fn();
    streamProgress(res as unknown as Response, view(5, 'cancelled'), { subscribe }, 250);
    expect(res.events()).toEqual(['event: progress', 'event: end']);
    expect(subscribe).not.toHaveBeenCalled();
  });

  it('stops listening when the client goes away', () => {
    const res = new FakeResponse();
    const unsubscribe = jest.fn();
    streamProgress(res as unknown as Response, view(0), { subscribe: () => unsubscribe }, 250);
    res.emit('close');
    expect(unsubscribe).toHaveBeenCalled();
  });
});
