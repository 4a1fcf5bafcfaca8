/** What the start of a WebM file says about seeking in it. */
export interface WebmHead {
  /** The segment's Info has a positive Duration. */
  duration: boolean;
  /** The SeekHead points at Cues (or Cues come before the first Cluster): a player can seek without a full scan. */
  cues: boolean;
}

/** How much of a WebM's start `readWebmHead` needs: the EBML header, SeekHead and Info come before the media. */
export const WEBM_HEAD_BYTES = 64 * 1024;

const EBML = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const SEEK_HEAD = 0x114d9b74;
const SEEK = 0x4dbb;
const SEEK_ID = 0x53ab;
const INFO = 0x1549a966;
const DURATION = 0x4489;
const CUES = 0x1c53bb6b;
const CLUSTER = 0x1f43b675;

interface Element {
  id: number;
  /** Where its data starts. */
  data: number;
  /** Its data's length; undefined when unknown (a live-written Segment or Cluster). */
  size: number | undefined;
}

/**
 * Reads the top-level elements of a WebM's Segment up to its first Cluster, from the file's first bytes. A
 * MediaRecorder file (written to a pipe, never rewritten) has no Duration and no Cues: a browser shows no length
 * and cannot seek in it until it is remuxed. Bytes that are not WebM answer neither.
 */
export function readWebmHead(head: Buffer): WebmHead {
  const found: WebmHead = { duration: false, cues: false };
  const ebml = readElement(head, 0);
  if (ebml?.id !== EBML || ebml.size === undefined) return found;
  const segment = readElement(head, ebml.data + ebml.size);
  if (segment?.id !== SEGMENT) return found;
  const segmentEnd = segment.size === undefined ? head.length : segment.data + segment.size;
  for (let pos = segment.data; pos < Math.min(segmentEnd, head.length);) {
    const child = readElement(head, pos);
    if (!child || child.id === CLUSTER) break;
    if (child.id === CUES) found.cues = true;
    if (child.size === undefined) break;
    const end = Math.min(child.data + child.size, head.length);
    if (child.id === SEEK_HEAD) found.cues ||= seekHeadListsCues(head, child.data, end);
    if (child.id === INFO) found.duration ||= infoHasDuration(head, child.data, end);
    pos = child.data + child.size;
  }
  return found;
}

function seekHeadListsCues(head: Buffer, start: number, end: number): boolean {
  return children(head, start, end).some(
    (seek) =>
      seek.id === SEEK &&
      children(head, seek.data, seek.data + (seek.size ?? 0)).some(
        (field) => field.id === SEEK_ID && field.size === 4 && head.readUInt32BE(field.data) === CUES,
      ),
  );
}

function infoHasDuration(head: Buffer, start: number, end: number): boolean {
  const duration = children(head, start, end).find((field) => field.id === DURATION);
  if (!duration || duration.data + (duration.size ?? 0) > head.length) return false;
  if (duration.size === 4) return head.readFloatBE(duration.data) > 0;
  if (duration.size === 8) return head.readDoubleBE(duration.data) > 0;
  return false;
}

/** The elements of known size between `start` and `end` (an element cut off by the head's end is left out). */
function children(head: Buffer, start: number, end: number): Element[] {
  const found: Element[] = [];
  for (let pos = start; pos < end;) {
    const element = readElement(head, pos);
    if (!element || element.size === undefined || element.data + element.size > end) break;
    found.push(element);
    pos = element.data + element.size;
  }
  return found;
}

/** An EBML element header at `pos`: a variable-length ID (marker bits kept) and size (marker stripped). */
function readElement(head: Buffer, pos: number): Element | undefined {
  const id = readVint(head, pos, 4);
  if (!id) return undefined;
  const size = readVint(head, pos + id.length, 8);
  if (!size) return undefined;
  return { id: id.raw, data: pos + id.length + size.length, size: size.unknown ? undefined : size.value };
}

function readVint(
  head: Buffer,
  pos: number,
  maxLength: number,
): { length: number; raw: number; value: number; unknown: boolean } | undefined {
  if (pos >= head.length) return undefined;
  const first = head[pos];
  const length = first === 0 ? 9 : 8 - Math.floor(Math.log2(first));
  if (length > maxLength || pos + length > head.length) return undefined;
  const bytes = head.subarray(pos, pos + length);
  // The value without its length marker, accumulated from the masked first byte: an 8-byte size (ffmpeg reserves
  // them) stays exact for any real length, where marker and all would pass 2^53.
  const mask = 0xff >> length;
  let value = first & mask;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[i];
  const unknown = (first & mask) === mask && bytes.subarray(1).every((byte) => byte === 0xff);
  return { length, raw: bytes.readUIntBE(0, Math.min(length, 6)), value, unknown };
}
