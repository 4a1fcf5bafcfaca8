import type { Readable } from 'node:stream';
import { pieceKey } from './assembly-state';
import { PartSink, writeInParts } from './part-writer';
import type { S3ObjectStore } from './s3-object-store';
import type { ObjectWriter } from './s3-write-stream';

/**
 * Writes a stream into an assembly's tail from `offset` (S3Assembly.openWriteAt), as pieces of `partSize`: piece n
 * is the object `<key>.tail/<offset + n × partSize>`, one PUT of a full part buffer, and the rest is one last
 * smaller piece once the stream ends. The part writer's buffers and backpressure bound the memory as for any
 * write: (queueSize + 1) × partSize.
 *
 * Each piece is stored whole or not at all, and stays when the stream fails or is destroyed later: a request
 * broken off at 480 MB of 500 keeps its whole pieces (the assembly's length is `offset` plus them), and the client
 * resumes from there. A piece already being PUT when that happens is let finish (a cut one would leave its fate
 * unknown), the unfinished buffer is dropped. A piece that fails while a later one lands leaves a gap: the later
 * one is stale (see loadAssemblyState) and deleted before the next write. A caller that must drop the whole write
 * truncates to `offset`, a piece boundary.
 */
export class TailWriter implements ObjectWriter {
  constructor(
    private readonly store: S3ObjectStore,
    private readonly offset: number,
    private readonly partSize: number,
    private readonly queueSize: number,
  ) {}

  /** Writes `source` into the tail of the assembly at `key`; resolves once every piece is stored. */
  write(key: string, source: Readable, { signal }: { signal?: AbortSignal }): Promise<unknown> {
    const { store, offset, partSize } = this;
    // Pieces, not parts: the part writer's signal is not passed on, so a piece in flight is stored whole.
    const sink: PartSink = {
      createMultipart: () => Promise.resolve({ key, uploadId: '' }),
      uploadPart: async (_ref, partNumber, body) => {
        const { etag } = await store.putObject(pieceKey(key, offset + (partNumber - 1) * partSize), body);
        return { partNumber, etag };
      },
      completeMultipart: () => Promise.resolve({ etag: '' }),
      putObject: (pieceAt, body) => store.putObject(pieceAt, body),
    };
    return writeInParts(sink, pieceKey(key, offset), source, {
      partSize,
      queueSize: this.queueSize,
      signal,
      onMultipart: () => undefined,
      onPut: () => undefined,
    });
  }
}
