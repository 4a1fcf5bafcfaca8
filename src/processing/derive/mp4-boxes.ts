/** A top-level ISO BMFF (MP4/MOV) box: its type, where it starts and its whole length, header included. */
export interface BoxHeader {
  type: string;
  start: number;
  size: number;
}

/** Bytes to read at a box's start: a 32-bit size and type, then a 64-bit size when the 32-bit one is 1. */
export const BOX_HEADER_BYTES = 16;

/** Reads the inclusive byte range `start`..`end` of the file. */
export type RangeReader = (start: number, end: number) => Promise<Buffer>;

/** Most top-level boxes a file may have before we give up (a real one has a handful; a hostile one, millions). */
const MAX_TOP_LEVEL_BOXES = 10_000;

/**
 * Parses the header of the top-level box at `start` from the (up to 16) bytes there. Size 1 means a 64-bit size
 * follows the type (files past 4 GiB), size 0 means "to the end of the file". A box that runs past the end of the
 * file means the file was cut short.
 */
export function parseBoxHeader(bytes: Buffer, start: number, fileSize: number): BoxHeader {
  if (bytes.length < 8) throw new Error(`MP4 is truncated: the box header at byte ${start} is cut short`);
  const size32 = bytes.readUInt32BE(0);
  const type = bytes.toString('latin1', 4, 8);
  let size = size32;
  let headerSize = 8;
  if (size32 === 1) {
    if (bytes.length < 16) throw new Error(`MP4 is truncated: the 64-bit size of box '${type}' is cut short`);
    const large = bytes.readBigUInt64BE(8);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`MP4 box '${type}' claims ${large} bytes`);
    size = Number(large);
    headerSize = 16;
  } else if (size32 === 0) {
    size = fileSize - start;
  }
  if (size < headerSize) throw new Error(`MP4 box '${type}' at byte ${start} has an impossible size ${size}`);
  if (start + size > fileSize) {
    throw new Error(`MP4 is truncated: box '${type}' at byte ${start} runs past the end of the file`);
  }
  return { type, start, size };
}

/**
 * Whether the `moov` box (the index a player needs before it can play anything) comes after `mdat` (the media),
 * so a browser must fetch the end of the file first: what phones and cameras write, and what a faststart remux
 * fixes. Walks the top-level boxes with one 16-byte read each. Rejects when the file has no `moov` or is cut short.
 */
export async function moovAfterMdat(read: RangeReader, fileSize: number): Promise<boolean> {
  let mdatSeen = false;
  let offset = 0;
  for (let boxes = 0; offset < fileSize; boxes++) {
    if (boxes === MAX_TOP_LEVEL_BOXES)
      throw new Error(`MP4 has more than ${MAX_TOP_LEVEL_BOXES} top-level boxes`);
    const end = Math.min(offset + BOX_HEADER_BYTES, fileSize) - 1;
    const box = parseBoxHeader(await read(offset, end), offset, fileSize);
    if (box.type === 'moov') return mdatSeen;
    if (box.type === 'mdat') mdatSeen = true;
    offset += box.size;
  }
  throw new Error('MP4 has no moov box (its index): it cannot be played');
}
