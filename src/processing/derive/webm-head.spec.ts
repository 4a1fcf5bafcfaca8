import { readWebmHead } from './webm-head';

/** An EBML element: its ID bytes as written, a 1- or 8-byte size (8: ffmpeg's reserved sizes), its data. */
function element(id: number[], data: Buffer, wideSize = false): Buffer {
  const size = wideSize
    ? Buffer.from([0x01, 0, 0, 0, 0, 0, 0, data.length])
    : Buffer.from([0x80 | data.length]);
  return Buffer.concat([Buffer.from(id), size, data]);
}

const EBML = element([0x1a, 0x45, 0xdf, 0xa3], element([0x42, 0x82], Buffer.from('webm')));
const CUES_ID = [0x1c, 0x53, 0xbb, 0x6b];
const CLUSTER = element([0x1f, 0x43, 0xb6, 0x75], Buffer.alloc(20));
/** A Segment of unknown size, as a live writer leaves it. */
const LIVE_SEGMENT = Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function seekHead(...ids: number[][]): Buffer {
  const seeks = ids.map((id) =>
    element(
      [0x4d, 0xbb],
      Buffer.concat([element([0x53, 0xab], Buffer.from(id)), element([0x53, 0xac], Buffer.from([1]))]),
    ),
  );
  return element([0x11, 0x4d, 0x9b, 0x74], Buffer.concat(seeks));
}

function info(duration?: number): Buffer {
  const scale = element([0x2a, 0xd7, 0xb1], Buffer.from([0x0f, 0x42, 0x40]));
  if (duration === undefined) return element([0x15, 0x49, 0xa9, 0x66], scale);
  const value = Buffer.alloc(8);
  value.writeDoubleBE(duration);
  return element([0x15, 0x49, 0xa9, 0x66], Buffer.concat([scale, element([0x44, 0x89], value)]), true);
}

describe('readWebmHead', () => {
  it('finds neither in a MediaRecorder file (live Segment, no SeekHead, no Duration)', () => {
    const head = Buffer.concat([
      EBML,
      LIVE_SEGMENT,
      info(),
      element([0x16, 0x54, 0xae, 0x6b], Buffer.alloc(10)),
      CLUSTER,
    ]);
    expect(readWebmHead(head)).toEqual({ duration: false, cues: false });
  });

  it('finds both when the SeekHead lists Cues and Info has a Duration', () => {
    const body = Buffer.concat([seekHead([0x15, 0x49, 0xa9, 0x66], CUES_ID), info(2000), CLUSTER]);
    const head = Buffer.concat([EBML, element([0x18, 0x53, 0x80, 0x67], body, true)]);
    expect(readWebmHead(head)).toEqual({ duration: true, cues: true });
  });

  it('does not count a SeekHead that lists no Cues, nor a zero Duration', () => {
    const head = Buffer.concat([EBML, LIVE_SEGMENT, seekHead([0x15, 0x49, 0xa9, 0x66]), info(0), CLUSTER]);
    expect(readWebmHead(head)).toEqual({ duration: false, cues: false });
  });

  it('counts Cues written before the first Cluster, and stops at the Cluster', () => {
    const cuesFirst = Buffer.concat([EBML, LIVE_SEGMENT, element(CUES_ID, Buffer.alloc(4)), CLUSTER]);
    expect(readWebmHead(cuesFirst).cues).toBe(true);
    const cuesLast = Buffer.concat([EBML, LIVE_SEGMENT, CLUSTER, element(CUES_ID, Buffer.alloc(4))]);
    expect(readWebmHead(cuesLast).cues).toBe(false);
  });

  it('answers neither for bytes that are not WebM, or a head cut short', () => {
    expect(readWebmHead(Buffer.from('not a webm file at all'))).toEqual({ duration: false, cues: false });
    expect(readWebmHead(Buffer.alloc(0))).toEqual({ duration: false, cues: false });
    expect(readWebmHead(Buffer.concat([EBML, LIVE_SEGMENT]).subarray(0, 20))).toEqual({
      duration: false,
      cues: false,
    });
  });
});
