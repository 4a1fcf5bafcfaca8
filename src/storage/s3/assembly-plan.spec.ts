import { planParts, TailSpan } from './assembly-plan';

const MiB = 1024 * 1024;
const P = 8 * MiB;
/** Whole pieces of these sizes (MiB), named p0, p1, … */
const pieces = (...sizes: number[]): TailSpan[] =>
  sizes.map((size, index) => ({ key: `p${index}`, start: 0, end: size * MiB }));
/** Each part as `copy pN a-b` or `stream pN a-b + …`, in MiB, for readable expectations. */
const describe_ = (plan: ReturnType<typeof planParts>) =>
  plan.parts.map((part) =>
    part.kind === 'copy'
      ? `copy ${part.key} ${part.start / MiB}-${part.end / MiB}`
      : `stream ${part.spans.map((s) => `${s.key} ${s.start / MiB}-${s.end / MiB}`).join(' + ')}`,
  );

describe('planParts', () => {
  it('copies a large piece whole, server-side', () => {
    const plan = planParts(pieces(100), { partSize: P, last: false });
    expect(describe_(plan)).toEqual(['copy p0 0-100']);
    expect(plan.consumed).toBe(1);
  });

  it('streams small pieces together once they make a part, and leaves too few in the tail', () => {
    expect(planParts(pieces(3, 3), { partSize: P, last: false })).toEqual({ parts: [], consumed: 0 });
    const plan = planParts(pieces(3, 3, 3), { partSize: P, last: false });
    expect(describe_(plan)).toEqual(['stream p0 0-3 + p1 0-3 + p2 0-3']);
    expect(plan.consumed).toBe(3);
  });

  it('tops up small pieces from the head of a large one and copies its rest', () => {
    const plan = planParts(pieces(3, 100), { partSize: P, last: false });
    expect(describe_(plan)).toEqual(['stream p0 0-3 + p1 0-5', 'copy p1 5-100']);
    expect(plan.consumed).toBe(2);
  });

  it('copies a piece or a rest of at least 5 MiB, even below the part size', () => {
    expect(describe_(planParts(pieces(6), { partSize: P, last: false }))).toEqual(['copy p0 0-6']);
    expect(describe_(planParts(pieces(3, 12), { partSize: P, last: false }))).toEqual([
      'stream p0 0-3 + p1 0-5',
      'copy p1 5-12',
    ]);
  });

  it('a rest too small to copy rides on the streamed part before it', () => {
    const plan = planParts(pieces(3, 9, 1), { partSize: P, last: false });
    expect(describe_(plan)).toEqual(['stream p0 0-3 + p1 0-9 + p2 0-1']);
    expect(plan.consumed).toBe(3);
  });

  it('keeps whole small pieces after a copied part in the tail, unless it is the last flush', () => {
    const kept = planParts(pieces(20, 1, 2), { partSize: P, last: false });
    expect(describe_(kept)).toEqual(['copy p0 0-20']);
    expect(kept.consumed).toBe(1);
    const sealed = planParts(pieces(20, 1, 2), { partSize: P, last: true });
    expect(describe_(sealed)).toEqual(['copy p0 0-20', 'stream p1 0-1 + p2 0-2']);
    expect(sealed.consumed).toBe(3);
  });

  it('sends a small tail as the last part, and nothing for an empty one', () => {
    expect(describe_(planParts(pieces(1), { partSize: P, last: true }))).toEqual(['stream p0 0-1']);
    expect(planParts([], { partSize: P, last: true })).toEqual({ parts: [], consumed: 0 });
  });

  it('starts from a piece part-sent before a crash (a span beginning inside it)', () => {
    const plan = planParts([{ key: 'p0', start: 5 * MiB, end: 30 * MiB }], { partSize: P, last: false });
    expect(describe_(plan)).toEqual(['copy p0 5-30']);
  });

  it('copies a piece larger than one copy allows in even ranges', () => {
    const plan = planParts(pieces(25), { partSize: P, last: false, maxCopy: 10 * MiB });
    expect(plan.parts.map((part) => part.kind === 'copy' && [part.start, part.end])).toEqual([
      [0, 8738134],
      [8738134, 17476268],
      [17476268, 25 * MiB],
    ]);
  });

  it('covers every byte exactly once, in order', () => {
    const spans = pieces(1, 7, 2, 40, 3, 3, 9, 1);
    const plan = planParts(spans, { partSize: P, last: true });
    const covered = plan.parts.flatMap((part) => (part.kind === 'copy' ? [part] : part.spans));
    let expected = { key: 'p0', at: 0 };
    for (const span of covered) {
      if (span.key !== expected.key) expected = { key: span.key, at: 0 };
      expect(span.start).toBe(expected.at);
      expected.at = span.end;
    }
    const sizes = plan.parts.map((part) => (part.kind === 'copy' ? part.end - part.start : part.length));
    expect(sizes.slice(0, -1).every((size) => size >= 5 * MiB)).toBe(true);
    expect(sizes.reduce((a, b) => a + b)).toBe(66 * MiB);
  });
});
