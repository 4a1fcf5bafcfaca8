import type { TailSpan } from './assembly-plan';
import { isMissingUpload } from './s3-errors';
import type { MultipartRef, UploadedPart } from './s3-multipart-store';
import type { S3ObjectStore } from './s3-object-store';

/** Where an assembly's bytes not yet sent as parts live: `<key>.tail/<offset, 15 digits>`, and its head copy. */
export const tailPrefix = (key: string) => `${key}.tail/`;
export const pieceKey = (key: string, offset: number) =>
  `${tailPrefix(key)}${String(offset).padStart(15, '0')}`;
export const headKey = (key: string) => `${tailPrefix(key)}head`;
const MARKER = 'upload-';
/** An empty object naming the assembly's multipart upload, written right after it is created. */
export const uploadMarker = (key: string, uploadId: string) =>
  `${tailPrefix(key)}${MARKER}${Buffer.from(uploadId).toString('base64url')}`;

/** A tail piece holding assembly bytes `[offset + from, offset + size)` that are not sent yet. */
export interface LivePiece {
  key: string;
  offset: number;
  size: number;
  /** The first byte of the piece still unsent (> 0 only when a crash cut a flush between its parts). */
  from: number;
}

/** What S3 holds of one assembly, read fresh by any instance (nothing lives in one process). */
export interface AssemblyState {
  /** The size of the object at the key: the assembly is sealed, it reads as a normal object. */
  sealed?: number;
  /** Its multipart upload (the one at exactly the key; created by the first part). */
  upload?: MultipartRef;
  parts: Array<UploadedPart & { size: number }>;
  /** Bytes sent as parts: the assembly's first `sent` bytes. */
  sent: number;
  /** The pieces after `sent`, back to back, in order. */
  live: LivePiece[];
  /** Tail objects that hold nothing live (sent, merged, or beyond the end after an interrupted truncate). */
  stale: string[];
  /** The copy of the first HEAD_BYTES, written with the first part (readHead before seal). */
  hasHead: boolean;
  /** Anything at all exists (an empty assembly is one empty piece). */
  exists: boolean;
}

export const lengthOf = (state: AssemblyState): number => {
  const last = state.live.at(-1);
  return last ? last.offset + last.size : state.sent;
};

export const spanOf = (piece: LivePiece): TailSpan => ({
  key: piece.key,
  start: piece.from,
  end: piece.size,
});

/**
 * Reads the assembly's state from S3: the tail listing (pieces, the head copy, the upload marker), ListParts of the
 * marked upload, and a HEAD of the key. The upload is found through its marker object rather than by
 * ListMultipartUploads, whose listing is not read-after-write consistent on every S3 implementation (a second
 * instance missing a fresh upload would start another). Pieces are named by their start offset; from the sent
 * length on, the live ones are
 * those that continue the assembly without a gap. Anything else (a piece already sent, one merged into a larger
 * piece, one left beyond a gap by an interrupted truncate) is stale and deleted before the next write.
 */
export async function loadAssemblyState(store: S3ObjectStore, key: string): Promise<AssemblyState> {
  const [objects, object] = await Promise.all([store.list(tailPrefix(key)), store.head(key)]);
  const tailKeys = objects.map((listed) => listed.key);
  if (object) {
    // Sealed: whatever is left under the tail is stale (a crash between completion and its cleanup).
    return {
      sealed: object.size,
      parts: [],
      sent: 0,
      live: [],
      stale: tailKeys,
      hasHead: false,
      exists: true,
    };
  }
  const marker = tailKeys.find((tailKey) => tailKey.startsWith(`${tailPrefix(key)}${MARKER}`));
  const upload: MultipartRef | undefined =
    marker === undefined
      ? undefined
      : {
          key,
          uploadId: Buffer.from(marker.slice(`${tailPrefix(key)}${MARKER}`.length), 'base64url').toString(),
        };
  const parts = upload ? await partsOf(store, upload) : [];
  const sent = parts.reduce((total, part) => total + part.size, 0);
  const pieces = objects
    .map((listed) => ({ key: listed.key, name: listed.key.slice(tailPrefix(key).length), size: listed.size }))
    .filter((piece) => /^\d+$/.test(piece.name))
    .map((piece) => ({ key: piece.key, offset: Number(piece.name), size: piece.size }))
    .sort((a, b) => a.offset - b.offset);
  const live: LivePiece[] = [];
  const stale: string[] = [];
  let position = sent;
  for (const piece of pieces) {
    const end = piece.offset + piece.size;
    if (piece.offset <= position && end > position) {
      live.push({ ...piece, from: position - piece.offset });
      position = end;
    } else if (piece.offset !== position || piece.size > 0) {
      stale.push(piece.key);
    }
  }
  return {
    upload,
    parts,
    sent,
    live,
    stale,
    hasHead: tailKeys.includes(headKey(key)),
    exists: upload !== undefined || objects.length > 0,
  };
}

/** The parts of the marked upload; one that is gone (aborted from outside) is an error, not an empty assembly. */
async function partsOf(
  store: S3ObjectStore,
  upload: MultipartRef,
): Promise<Array<UploadedPart & { size: number }>> {
  try {
    return await store.listParts(upload);
  } catch (error) {
    if (!isMissingUpload((error as Error).cause)) throw error;
    throw new Error(`the multipart upload of ${upload.key} is gone (aborted outside the assembly)`);
  }
}
