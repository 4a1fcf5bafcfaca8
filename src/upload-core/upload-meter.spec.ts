import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UploadMeter, UploadMeterOptions } from './upload-meter';

const pieces = (...sizes: number[]) => sizes.map((size, i) => Buffer.alloc(size, i + 1));

/** Runs `chunks` through a meter into a collecting sink; resolves what reached the sink, or rejects. */
async function run(chunks: Buffer[], options: UploadMeterOptions, meter = new UploadMeter(options)) {
  const stored: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stored.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks), meter, sink);
  return { meter, stored: Buffer.concat(stored) };
}

describe('UploadMeter', () => {
  it('forwards every byte unchanged, counts them and hashes them', async () => {
    const chunks = pieces(1000, 1, 70_000);
    const { meter, stored } = await run(chunks, {});
    const all = Buffer.concat(chunks);
    expect(stored.equals(all)).toBe(true);
    expect(meter.bytes).toBe(all.length);
    expect(meter.digest()).toBe(createHash('sha256').update(all).digest('hex'));
  });

  it('feeds the extra hash sinks and the progress with every chunk', async () => {
    const sink = createHash('sha256');
    const added: number[] = [];
    const { meter } = await run(pieces(10, 20, 30), {
      sinks: [sink],
      ownHash: false,
      progress: { add: (n) => added.push(n) },
    });
    expect(added).toEqual([10, 20, 30]);
    expect(sink.digest('hex')).toBe(
      createHash('sha256')
        .update(Buffer.concat(pieces(10, 20, 30)))
        .digest('hex'),
    );
    expect(() => meter.digest()).toThrow(/does not hash/);
  });

  it('allows exactly the limit and refuses the byte past it, before that chunk is forwarded', async () => {
    await expect(run(pieces(50, 50), { limit: 100 })).resolves.toMatchObject({ meter: { bytes: 100 } });
    const tooLarge = new Error('too large');
    const meter = new UploadMeter({ limit: 100, tooLarge: () => tooLarge });
    const stored: number[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        stored.push(chunk.length);
        callback();
      },
    });
    await expect(pipeline(Readable.from(pieces(60, 41)), meter, sink)).rejects.toBe(tooLarge);
    expect(stored).toEqual([60]);
    expect(meter.refusal).toBe(tooLarge);
  });

  it('tells the budget the running total and stops when it refuses', async () => {
    const totals: number[] = [];
    const overQuota = new Error('quota');
    const budget = {
      grow: (total: number) => {
        totals.push(total);
        if (total > 25) throw overQuota;
      },
    };
    const meter = new UploadMeter({ budget });
    await expect(run(pieces(10, 10, 10), {}, meter)).rejects.toBe(overQuota);
    expect(totals).toEqual([10, 20, 30]);
    expect(meter.refusal).toBe(overQuota);
  });

  it('checks the head, prefix included, once enough bytes passed, and holds the completing chunk until then', async () => {
    const seen: Buffer[] = [];
    const head = {
      prefix: Buffer.from('AB'),
      needed: 6,
      check: (bytes: Buffer) => Promise.resolve(void seen.push(bytes)),
    };
    const { stored } = await run([Buffer.from('CD'), Buffer.from('EFGH'), Buffer.from('IJ')], { head });
    expect(seen.map(String)).toEqual(['ABCDEFGH']);
    expect(String(stored)).toBe('CDEFGHIJ');
  });

  it('refuses when the head check throws: the completing chunk never reaches the sink', async () => {
    const refused = new Error('not a media file');
    const meter = new UploadMeter({
      head: { prefix: Buffer.alloc(0), needed: 4, check: () => Promise.reject(refused) },
    });
    const stored: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        stored.push(String(chunk));
        callback();
      },
    });
    await expect(pipeline(Readable.from([Buffer.from('ab'), Buffer.from('cdef')]), meter, sink)).rejects.toBe(
      refused,
    );
    expect(stored).toEqual(['ab']);
    expect(meter.refusal).toBe(refused);
  });

  it('stops with the reason as soon as the progress signal aborts (cancel), and on an already aborted signal', async () => {
    const cancel = new AbortController();
    const reason = new Error('cancelled');
    const source = new Readable({ read() {} });
    const meter = new UploadMeter({ progress: { add: () => cancel.abort(reason), signal: cancel.signal } });
    const done = pipeline(source, meter, new Writable({ write: (_c, _e, cb) => cb() }));
    source.push(Buffer.from('x'));
    await expect(done).rejects.toBe(reason);

    const aborted = AbortSignal.abort(reason);
    await expect(run(pieces(1), { signal: aborted })).rejects.toBe(reason);
  });

  it('removes its abort listeners when it ends', async () => {
    const controller = new AbortController();
    const { meter } = await run(pieces(3), { signal: controller.signal });
    controller.abort(new Error('late'));
    expect(meter.destroyed).toBe(true);
    expect(meter.errored).toBeNull();
  });
});
