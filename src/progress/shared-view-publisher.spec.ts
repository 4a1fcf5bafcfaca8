import { setTimeout as sleep } from 'node:timers/promises';
import { LiveUpload } from './live-upload';
import { ProgressView } from './progress-view';
import { SharedViewPublisher } from './shared-view-publisher';

function liveUpload(): LiveUpload {
  return new LiveUpload(
    {
      userId: 'u1',
      uploadId: 'upload-1',
      source: 'multipart',
      totalBytes: 1_000_000,
      bytesUploaded: 0,
      startTime: new Date(),
      canceller: () => Promise.resolve(),
    },
    () => Promise.resolve(),
  );
}

/** Records what the publisher writes (and when each write started); each write takes `writeMs`. */
function recordingSink(writeMs = 0) {
  const writes: Array<{ at: number; view: ProgressView; final: boolean }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = (final: boolean) => async (view: ProgressView) => {
    const at = Date.now();
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await sleep(writeMs);
    inFlight--;
    writes.push({ at, view, final });
  };
  return { writes, store: write(false), storeFinal: write(true), maxInFlight: () => maxInFlight };
}

describe('SharedViewPublisher', () => {
  it('writes at most once per interval however many chunks arrive, and the latest bytes', async () => {
    const upload = liveUpload();
    const sink = recordingSink();
    const publisher = new SharedViewPublisher(upload, sink, 50);
    const started = Date.now();
    while (Date.now() - started < 400) {
      for (let chunk = 0; chunk < 100; chunk++) upload.add(1);
      await sleep(1);
    }
    await sleep(60);
    publisher.stop();
    // ~400 ms of chunks at one write per 50 ms: about 9 writes, never one per chunk.
    expect(sink.writes.length).toBeGreaterThanOrEqual(3);
    expect(sink.writes.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < sink.writes.length; i++)
      expect(sink.writes[i].at - sink.writes[i - 1].at).toBeGreaterThanOrEqual(48);
    expect(sink.writes[sink.writes.length - 1].view.bytesUploaded).toBe(upload.bytesUploaded);
  });

  it('never has two writes in flight, and shares the terminal view after the writes before it', async () => {
    const upload = liveUpload();
    const sink = recordingSink(30);
    const publisher = new SharedViewPublisher(upload, sink, 5);
    for (let step = 0; step < 20; step++) {
      upload.add(10);
      await sleep(3);
    }
    await upload.finish('completed');
    await publisher.finish();
    expect(sink.maxInFlight()).toBe(1);
    const last = sink.writes[sink.writes.length - 1];
    expect(last).toMatchObject({ final: true, view: { status: 'completed', bytesUploaded: 200 } });
    expect(sink.writes.filter((write) => write.final)).toHaveLength(1);
  });

  it('writes nothing once stopped', async () => {
    const upload = liveUpload();
    const sink = recordingSink();
    const publisher = new SharedViewPublisher(upload, sink, 20);
    await sleep(5);
    publisher.stop();
    const before = sink.writes.length;
    upload.add(5);
    await sleep(40);
    expect(sink.writes.length).toBe(before);
  });
});
