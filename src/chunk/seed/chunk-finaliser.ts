import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { allowedExtensions, isAllowedForCategory } from '../../media/mime-sniffer';
import { contentUrl, MediaRecordsService } from '../../media/media-records.service';
import { LiveUpload } from '../../progress/live-upload';
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
 * Turns a complete session into a media file: checks no chunk is missing, sniffs the type from the first bytes,
 * hashes, renames into media/, and completes the records. Runs under the session lock (SeedChunkService).
 */
@Injectable()
export class ChunkFinaliser {
  private readonly logger = new Logger(ChunkFinaliser.name);

  constructor(
    private readonly sessions: ChunkSessionsService,
    private readonly assembly: ChunkAssembly,
    private readonly media: MediaRecordsService,
  ) {}

  async finalise(
    session: ChunkSessionRecord,
    received: ReceivedChunks,
    lastIndex: number,
    live: LiveUpload,
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
    const type = await this.assembly.sniff(ref);
    if (!type || !isAllowedForCategory(session.fileType, type)) {
      const message = `The assembled file is not an allowed ${session.fileType} type (${allowedExtensions(session.fileType)})`;
      await this.fail(session, ref, live, message);
      throw new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE, message, {
        uploadId: session.uploadId,
      });
    }
    const checksumSha256 = await this.assembly.sha256(ref);
    const storageKey = this.assembly.mediaKey(ref, type.ext);
    const fileName = `${session.uploadId}.${type.ext}`;
    await this.assembly.promote(ref, storageKey);
    try {
      await this.media.complete(ref.userId, ref.uploadId, {
        fileName,
        mimeType: type.mime,
        fileSize,
        storageKey,
        checksumSha256,
      });
    } catch (error) {
      // Put the file back, so finalising again (the same last chunk, resent) can succeed.
      await this.assembly.demote(ref, storageKey).catch((undo: Error) => this.logger.error(undo.message));
      throw error;
    }
    await this.sessions.complete(ref.userId, session.fileId, fileSize, storageKey);
    live.setBytes(fileSize);
    await live.finish('completed');
    await this.assembly.remove(ref);
    return {
      session: { ...session, status: 'completed', fileSize, storageKey },
      facts: { fileUrl: contentUrl(ref.uploadId), fileSize, mimeType: type.mime, fileName, checksumSha256 },
    };
  }

  /** A finished upload of a refused type: its bytes go and every record says failed. */
  private async fail(session: ChunkSessionRecord, ref: SessionRef, live: LiveUpload, reason: string) {
    await this.sessions.end(ref.userId, session.fileId, 'failed', reason);
    await this.assembly.remove(ref);
    await this.media.end(ref.userId, ref.uploadId, 'failed', reason);
    await live.finish('failed', reason);
  }
}
