import type { MediaRecordsService } from '../../media';
import type { ProcessingJob } from '../processing-state';
import { InProcessProcessingQueue } from './in-process-processing-queue';
import type { ProcessingRunner, RunOutcome } from './processing-runner';

const settings = { concurrency: 2, attempts: 3, retryDelayMs: 100, lockMs: 1000 };
const job = (uploadId: string): ProcessingJob => ({ userId: 'u1', uploadId });

/** A runner whose attempts the test settles one by one. */
function fakeRunner() {
  const calls: Array<{ uploadId: string; signal: AbortSignal; settle: (outcome: RunOutcome) => void }> = [];
  const runner = {
    run: (input: ProcessingJob, signal: AbortSignal) =>
      new Promise<RunOutcome>((settle) => calls.push({ uploadId: input.uploadId, signal, settle })),
  } as unknown as ProcessingRunner;
  return { runner, calls };
}

function records(unprocessed: string[] = []): MediaRecordsService {
  return {
    findUnprocessed: () => Promise.resolve(unprocessed.map((uploadId) => ({ userId: 'u1', uploadId }))),
  } as unknown as MediaRecordsService;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('InProcessProcessingQueue', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('runs at most PROCESSING_CONCURRENCY jobs at once and starts the next when one ends', async () => {
    const { runner, calls } = fakeRunner();
    const queue = new InProcessProcessingQueue(runner, records(), settings);
    for (const id of ['a', 'b', 'c']) await queue.enqueue(job(id));
    expect(calls.map((call) => call.uploadId)).toEqual(['a', 'b']);
    calls[0].settle('done');
    await flush();
    expect(calls.map((call) => call.uploadId)).toEqual(['a', 'b', 'c']);
  });

  it('ignores an upload already waiting or running, and takes it again once it ended', async () => {
    const { runner, calls } = fakeRunner();
    const queue = new InProcessProcessingQueue(runner, records(), { ...settings, concurrency: 1 });
    await queue.enqueue(job('a'));
    await queue.enqueue(job('b'));
    await queue.enqueue(job('a'));
    await queue.enqueue(job('b'));
    calls[0].settle('done');
    await flush();
    calls[1].settle('done');
    await flush();
    expect(calls.map((call) => call.uploadId)).toEqual(['a', 'b']);
    await queue.enqueue(job('a'));
    expect(calls.map((call) => call.uploadId)).toEqual(['a', 'b', 'a']);
  });

  it('retries after an exponential backoff, and an enqueue during the backoff adds nothing', async () => {
    const { runner, calls } = fakeRunner();
    const queue = new InProcessProcessingQueue(runner, records(), settings);
    await queue.enqueue(job('a'));
    calls[0].settle('retry');
    await flush();
    await queue.enqueue(job('a'));
    jest.advanceTimersByTime(99);
    expect(calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(calls).toHaveLength(2);
    calls[1].settle('retry');
    await flush();
    jest.advanceTimersByTime(199);
    expect(calls).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(calls).toHaveLength(3);
    calls[2].settle('failed');
    await flush();
    jest.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(3);
  });

  it('queues the unprocessed records at startup', async () => {
    const { runner, calls } = fakeRunner();
    const queue = new InProcessProcessingQueue(runner, records(['x', 'y']), settings);
    await queue.onApplicationBootstrap();
    expect(calls.map((call) => call.uploadId)).toEqual(['x', 'y']);
  });

  it('on shutdown aborts the running jobs, waits for them, drops waiting ones and takes no more', async () => {
    const { runner, calls } = fakeRunner();
    const queue = new InProcessProcessingQueue(runner, records(), { ...settings, concurrency: 1 });
    await queue.enqueue(job('a'));
    await queue.enqueue(job('b'));
    let stopped = false;
    const stopping = queue.beforeApplicationShutdown().then(() => (stopped = true));
    expect(calls[0].signal.aborted).toBe(true);
    await flush();
    expect(stopped).toBe(false);
    calls[0].settle('interrupted');
    await stopping;
    await queue.enqueue(job('c'));
    expect(calls.map((call) => call.uploadId)).toEqual(['a']);
  });
});
