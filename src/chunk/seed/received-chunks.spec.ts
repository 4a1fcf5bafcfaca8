import { formatManifestLine, parseManifest, ReceivedChunks } from './received-chunks';

const sha = (digit: string) => digit.repeat(64);

describe('received chunks', () => {
  it('finds chunks by index, counts them, and lists their indexes sorted', () => {
    const chunks = new ReceivedChunks();
    for (const index of [3, 0, 7, 1]) chunks.add({ index, size: index + 1, sha256: sha('a') });
    expect(chunks.count).toBe(4);
    expect(chunks.highest).toBe(7);
    expect(chunks.get(7)?.size).toBe(8);
    expect(chunks.get(2)).toBeUndefined();
    expect(chunks.indexes()).toEqual([0, 1, 3, 7]);
  });

  it('reads back what it wrote, one line per chunk', () => {
    const lines = [
      { index: 0, size: 5, sha256: sha('b') },
      { index: 2, size: 1_048_576, sha256: sha('c') },
    ].map(formatManifestLine);
    const parsed = parseManifest(lines.join(''));
    expect(parsed.indexes()).toEqual([0, 2]);
    expect(parsed.get(2)).toEqual({ index: 2, size: 1_048_576, sha256: sha('c') });
    expect(parseManifest('').count).toBe(0);
  });

  it('refuses a manifest line that does not read as one', () => {
    expect(() => parseManifest(`0 5 ${sha('b')}\n1 x ${sha('b')}\n`)).toThrow(/malformed/);
    expect(() => parseManifest(`0 5 ${sha('b')}`.slice(0, 20))).toThrow(/malformed/);
  });
});
