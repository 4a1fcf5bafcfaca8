/** One received chunk: enough to answer a repeat (same bytes → no-op, other bytes → conflict). */
export interface ReceivedChunk {
  index: number;
  size: number;
  sha256: string;
}

const LINE = /^(\d{1,9}) (\d{1,15}) ([0-9a-f]{64})$/;

/** The received chunks of one session, by index: O(1) lookup and insert, whatever the count. */
export class ReceivedChunks {
  private readonly byIndex = new Map<number, ReceivedChunk>();
  private top = -1;

  get count(): number {
    return this.byIndex.size;
  }

  /** Highest index received, or -1. */
  get highest(): number {
    return this.top;
  }

  get(index: number): ReceivedChunk | undefined {
    return this.byIndex.get(index);
  }

  add(chunk: ReceivedChunk): void {
    this.byIndex.set(chunk.index, chunk);
    this.top = Math.max(this.top, chunk.index);
  }

  /** Every received index, sorted. */
  indexes(): number[] {
    return [...this.byIndex.keys()].sort((a, b) => a - b);
  }
}

/** One manifest line: `<index> <size> <sha256>\n`. */
export function formatManifestLine(chunk: ReceivedChunk): string {
  return `${chunk.index} ${chunk.size} ${chunk.sha256}\n`;
}

/** Parses a committed manifest; a line that does not read as one is corruption, not input, so it throws. */
export function parseManifest(text: string): ReceivedChunks {
  const chunks = new ReceivedChunks();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`chunk manifest line is malformed: ${line.slice(0, 100)}`);
    chunks.add({ index: Number(match[1]), size: Number(match[2]), sha256: match[3] });
  }
  return chunks;
}
