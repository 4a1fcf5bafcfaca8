import { MIN_PART_BYTES } from './s3-multipart-store';

/** The largest source range one UploadPartCopy may copy. */
export const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;

/** Bytes `[start, end)` of the tail piece at `key` (piece-local offsets), not yet sent as a part. */
export interface TailSpan {
  key: string;
  start: number;
  end: number;
}

/** One part to send: copied server-side from one piece, or streamed through this process from several. */
export type PlannedPart =
  | { kind: 'copy'; key: string; start: number; end: number }
  | { kind: 'stream'; spans: TailSpan[]; length: number };

export interface PartPlan {
  parts: PlannedPart[];
  /** How many leading spans the parts consume (whole); the rest stay in the tail. */
  consumed: number;
}

/**
 * Cuts the tail (spans in assembly order) into parts. A span (or its rest) of at least `minCopy` (S3's 5 MiB) with
 * nothing open before it is copied server-side, in ranges of at most `maxCopy`; smaller spans are streamed together
 * until they make `partSize`, topped up from the head of the next span when its rest can still be copied. Not
 * `last`: whole spans after the final copied part that do not make a part stay in the tail; `last`: the final part
 * may be any size.
 */
export function planParts(
  spans: TailSpan[],
  {
    partSize,
    last,
    minCopy = MIN_PART_BYTES,
    maxCopy = MAX_COPY_BYTES,
  }: { partSize: number; last: boolean; minCopy?: number; maxCopy?: number },
): PartPlan {
  const parts: PlannedPart[] = [];
  let open: TailSpan[] = [];
  let openLength = 0;
  let consumed = 0;
  const close = () => {
    parts.push({ kind: 'stream', spans: open, length: openLength });
    open = [];
    openLength = 0;
  };

  spans.forEach((span, index) => {
    let start = span.start;
    const take = partSize - openLength;
    if (openLength > 0 && span.end - start - take >= minCopy) {
      addSpan(open, { key: span.key, start, end: start + take });
      openLength += take;
      start += take;
      close();
    }
    const rest = span.end - start;
    if (openLength === 0 && rest >= minCopy) {
      parts.push(...copyParts(span.key, start, span.end, maxCopy));
      consumed = index + 1;
      return;
    }
    if (rest > 0) {
      addSpan(open, { key: span.key, start, end: span.end });
      openLength += rest;
    }
    if (openLength >= partSize) {
      close();
      consumed = index + 1;
    }
  });

  if (openLength > 0) {
    const previous = parts.at(-1);
    if (previous?.kind === 'stream') {
      // Too small to stand alone: it rides on the streamed part before it (< 2 × partSize).
      for (const span of open) addSpan(previous.spans, span);
      previous.length += openLength;
      consumed = spans.length;
    } else if (last) {
      close();
      consumed = spans.length;
    }
  } else if (last) {
    consumed = spans.length;
  }
  return { parts, consumed };
}

/** Adds a span, joined to the previous one when it continues it (one GET instead of two). */
function addSpan(spans: TailSpan[], span: TailSpan): void {
  const previous = spans.at(-1);
  if (previous?.key === span.key && previous.end === span.start) previous.end = span.end;
  else spans.push({ ...span });
}

/** Even ranges of at most `maxCopy` bytes over `[start, end)` of one piece (each ≥ 5 MiB when `maxCopy` is 5 GiB). */
function copyParts(key: string, start: number, end: number, maxCopy: number): PlannedPart[] {
  const count = Math.ceil((end - start) / maxCopy);
  const size = Math.ceil((end - start) / count);
  const parts: PlannedPart[] = [];
  for (let from = start; from < end; from += size) {
    parts.push({ kind: 'copy', key, start: from, end: Math.min(end, from + size) });
  }
  return parts;
}
