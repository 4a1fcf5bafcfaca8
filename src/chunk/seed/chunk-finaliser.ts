import { HttpStatus, Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { allowedExtensions, contentUrl } from '../../media';
import { UploadClaim } from '../../upload-core';
import { ChunkAssembly, SessionRef } from './chunk-assembly';
import { ChunkErrorCode, missingIndexes, MISSING_LIST_LIMIT } from './chunk-rules';
import { ChunkSessionRecord, ChunkSessionsService } from './chunk-sessions.service';
import { ReceivedChunks } from './received-chunks';

/** What the reply of a finalising request adds. */
export interface FinishedChunkUpload {
  session: ChunkSessionRecord;
  facts: { fileUrl: string; fileSize: number; mimeType: string; fileName: string; checksumSha256: string };
}

/**
 * The seed protocol's part of finalising a session: no chunk may be missing, the assembly is sealed, and the
 * session record completes with the media record; the rest (sniff, allow-list, hash, promote, complete, progress)
 * is the upload core's, through the session's claim. Runs under the claim's lease (SeedChunkService).
 */
@Injectable()
export class ChunkFinaliser {
  constructor(
    private readonly sessions: ChunkSessionsService,
    private readonly assembly: ChunkAssembly,
  ) {}

  async finalise(
    claim: UploadClaim,
    session: ChunkSessionRecord,
    received: ReceivedChunks,
    lastIndex: number,
  ): Promise<FinishedChunkUpload> {
    const missing = missingIndexes({ ...session, received }, lastIndex);
    if (missing.length > 0) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        ChunkErrorCode.CHUNKS_MISSING,
        `Cannot complete: ${missing.length} chunk(s) missing, first ${missing[0]}`,
        {
          missing: missing.slice(0, MISSING_LIST_LIMIT),
          missingCount: missing.length,
          nextChunkIndex: session.nextIndex,
          uploadId: session.uploadId,
        },
      );
    }
    const ref: SessionRef = { userId: String(session.userId), uploadId: session.uploadId };
    const fileSize = session.assembledBytes;
    await this.assembly.seal(ref, fileSize);
    const stored = await claim.finalise({
      category: session.fileType,
      stagedKey: this.assembly.dataKey(ref),
      size: fileSize,
      refusal: (category, reason) =>
        new ApiError(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          `The assembled file is not an allowed ${category} type (${allowedExtensions(category)})` +
            (reason ? `: ${reason}` : ''),
          { uploadId: session.uploadId },
        ),
      abandon: {
        prefixes: [this.assembly.prefix(ref)],
        endOwn: (status, reason) => this.sessions.end(ref.userId, session.fileId, status, reason),
      },
      // A failed completion leaves the assembly in place: the same last chunk, resent, finalises again.
      stored: (upload) => this.sessions.complete(ref.userId, session.fileId, fileSize, upload.storageKey),
    });
    await this.assembly.remove(ref);
    return {
      session: { ...session, status: 'completed', fileSize, storageKey: stored.storageKey },
      facts: {
        fileUrl: contentUrl(ref.uploadId),
        fileSize,
        mimeType: stored.type.mime,
        fileName: stored.fileName,
        checksumSha256: stored.sha256,
      },
    };
  }
}
