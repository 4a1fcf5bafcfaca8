import { ApiError } from '../../common/errors/api-error';
import { ChunkState, effectiveTotal, missingIndexes, planChunk, withChunk } from './chunk-rules';

const chunk = (index: number, size = 10, sha256 = `sha-${index}`) => ({ index, size, sha256 });
const state = (indexes: number[], nextIndex: number, totalChunks: number | null = null): ChunkState => ({
  nextIndex,
  totalChunks,
  bytesReceived: indexes.length * 10,
  chunks: indexes.map((index) => chunk(index)),
});
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return {
      status: (error as ApiError).getStatus(),
      error: ((error as ApiError).getResponse() as { error: string }).error,
    };
  }
  return undefined;
};

describe('chunk rules', () => {
  it('appends the next chunk and parks a later one', () => {
    expect(planChunk(state([0], 1), { ...chunk(1) }, 1000)).toBe('append');
    expect(planChunk(state([0], 1), { ...chunk(3) }, 1000)).toBe('park');
  });

  it('treats the same bytes again as a duplicate and other bytes as a 409 conflict', () => {
    expect(planChunk(state([0, 2], 1), { ...chunk(2) }, 1000)).toBe('duplicate');
    expect(codeOf(() => planChunk(state([0, 2], 1), { ...chunk(2, 10, 'other') }, 1000))).toEqual({
      status: 409,
      error: 'CHUNK_CONFLICT',
    });
    expect(codeOf(() => planChunk(state([0], 1), { ...chunk(0, 11) }, 1000))?.error).toBe('CHUNK_CONFLICT');
  });

  it('refuses a chunk past the total size limit with 413, but not a duplicate', () => {
    expect(codeOf(() => planChunk(state([0, 1], 2), { ...chunk(2, 1) }, 20))).toEqual({
      status: 413,
      error: 'PAYLOAD_TOO_LARGE',
    });
    expect(planChunk(state([0, 1], 2), { ...chunk(1) }, 20)).toBe('duplicate');
  });

  it('keeps the first declared totalChunks and refuses indexes at or beyond it', () => {
    expect(effectiveTotal(state([0], 1), 3)).toBe(3);
    expect(effectiveTotal(state([0], 1, 3), undefined)).toBe(3);
    expect(codeOf(() => effectiveTotal(state([0], 1, 3), 4))?.error).toBe('TOTAL_CHUNKS_CONFLICT');
    expect(codeOf(() => effectiveTotal(state([0, 4], 1), 4))?.error).toBe('TOTAL_CHUNKS_CONFLICT');
    expect(codeOf(() => planChunk(state([0], 1, 3), { ...chunk(3) }, 1000))).toEqual({
      status: 400,
      error: 'CHUNK_INDEX_OUT_OF_RANGE',
    });
  });

  it('lists missing indexes below the highest seen, or below totalChunks when declared', () => {
    expect(missingIndexes(state([0, 2, 5], 1))).toEqual([1, 3, 4]);
    expect(missingIndexes(state([0, 1], 2), 3)).toEqual([2, 3]);
    expect(missingIndexes(state([0, 1], 2, 4))).toEqual([2, 3]);
    expect(missingIndexes(state([0, 1, 2], 3))).toEqual([]);
    expect(missingIndexes(state([], 0), 0)).toEqual([0]);
  });

  it('keeps the chunk list sorted by index', () => {
    expect(withChunk([chunk(0), chunk(3)], chunk(1)).map((c) => c.index)).toEqual([0, 1, 3]);
  });
});
