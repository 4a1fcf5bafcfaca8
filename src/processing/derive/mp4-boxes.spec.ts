import { moovAfterMdat, parseBoxHeader } from './mp4-boxes';

function box(type: string, payload: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, Buffer.alloc(payload)]);
}

/** A box with a 64-bit size (size field 1, largesize after the type). */
function largeBox(type: string, payload: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1, 0);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(16 + payload), 8);
  return Buffer.concat([header, Buffer.alloc(payload)]);
}

/** A reader over a buffer that records the ranges asked for. */
function reader(file: Buffer) {
  const reads: [number, number][] = [];
  const read = (start: number, end: number) => {
    reads.push([start, end]);
    return Promise.resolve(file.subarray(start, end + 1));
  };
  return { read, reads };
}

describe('parseBoxHeader', () => {
  it('reads a 32-bit size and the type', () => {
    expect(parseBoxHeader(box('ftyp', 16), 0, 100)).toEqual({ type: 'ftyp', start: 0, size: 24 });
  });

  it('reads a 64-bit size when the 32-bit one is 1', () => {
    expect(parseBoxHeader(largeBox('mdat', 100), 24, 24 + 116)).toEqual({
      type: 'mdat',
      start: 24,
      size: 116,
    });
  });

  it('reads size 0 as "to the end of the file"', () => {
    const header = box('mdat', 0);
    header.writeUInt32BE(0, 0);
    expect(parseBoxHeader(header, 40, 1000)).toEqual({ type: 'mdat', start: 40, size: 960 });
  });

  it('refuses a box that runs past the end of the file (a cut file)', () => {
    expect(() => parseBoxHeader(box('mdat', 100), 0, 50)).toThrow(/truncated/);
  });

  it('refuses a size smaller than the header, and a header cut short', () => {
    const tiny = box('free', 0);
    tiny.writeUInt32BE(4, 0);
    expect(() => parseBoxHeader(tiny, 0, 100)).toThrow(/impossible size 4/);
    expect(() => parseBoxHeader(Buffer.alloc(5), 0, 100)).toThrow(/truncated/);
    expect(() => parseBoxHeader(largeBox('mdat', 0).subarray(0, 12), 0, 100)).toThrow(/64-bit size/);
  });
});

describe('moovAfterMdat', () => {
  it('answers false for a faststart file (moov first)', async () => {
    const file = Buffer.concat([box('ftyp', 16), box('moov', 40), box('mdat', 200)]);
    const { read } = reader(file);
    await expect(moovAfterMdat(read, file.length)).resolves.toBe(false);
  });

  it('answers true for moov after mdat, reading only 16-byte box headers', async () => {
    const file = Buffer.concat([box('ftyp', 16), box('free', 0), box('mdat', 5000), box('moov', 40)]);
    const { read, reads } = reader(file);
    await expect(moovAfterMdat(read, file.length)).resolves.toBe(true);
    expect(reads).toEqual([
      [0, 15],
      [24, 39],
      [32, 47],
      [5040, 5055],
    ]);
  });

  it('skips a 64-bit mdat to find the moov behind it', async () => {
    const file = Buffer.concat([box('ftyp', 16), largeBox('mdat', 300), box('moov', 8)]);
    const { read } = reader(file);
    await expect(moovAfterMdat(read, file.length)).resolves.toBe(true);
  });

  it('reads a last box shorter than 16 bytes', async () => {
    const file = Buffer.concat([box('ftyp', 16), box('mdat', 10), box('moov', 0)]);
    await expect(moovAfterMdat(reader(file).read, file.length)).resolves.toBe(true);
  });

  it('rejects a moov-at-end file cut in half, and a file with no moov', async () => {
    const whole = Buffer.concat([box('ftyp', 16), box('mdat', 5000), box('moov', 40)]);
    const cut = whole.subarray(0, whole.length / 2);
    await expect(moovAfterMdat(reader(cut).read, cut.length)).rejects.toThrow(/truncated/);
    const noMoov = Buffer.concat([box('ftyp', 16), box('mdat', 50)]);
    await expect(moovAfterMdat(reader(noMoov).read, noMoov.length)).rejects.toThrow(/no moov/);
  });

  it('gives up on a file of endless tiny boxes', async () => {
    const file = Buffer.concat(Array.from({ length: 10_001 }, () => box('free', 0)));
    await expect(moovAfterMdat(reader(file).read, file.length)).rejects.toThrow(/more than 10000/);
  });
});
