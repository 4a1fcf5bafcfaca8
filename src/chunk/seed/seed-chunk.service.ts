import { HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Readable, Writable } from 'node:stream';
import { AuthUser } from '../../common/decorators/current-user.decorator';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { AppConfig } from '../../config';
import { LiveUpload, UploadCancelledError, ProgressTracker } from '../../progress';
import { quotaExceeded, QuotaService } from '../../quota';
import { isDiskFullError } from '../../storage';
import { uploadBusy } from '../../upload-core';
import { ChunkAssembly } from './chunk-assembly';
import { ChunkFinaliser, FinishedChunkUpload } from './chunk-finaliser';
import { ChunkLifecycle, refOf } from './chunk-lifecycle.service';
import { ChunkManifest } from './chunk-manifest';
import {
  CHUNK_METADATA_BYTES,
  ChunkErrorCode,
  ChunkPlan,
  chunkTooLarge,
  effectiveTotal,
  FILE_ID_PATTERN,
  invalidFileId,
  planChunk,
  totalTooLarge,
} from './chunk-rules';
import { ChunkSessionRecord, ChunkSessionsService } from './chunk-sessions.service';
import { writeChunk } from './chunk-writer';
import { chunkStatusView } from './chunk-status.view';
import { ChunkStatusDataDto } from './dto/chunk-status-response.dto';
import { ChunkUploadDataDto } from './dto/chunk-upload-response.dto';
import { UploadChunkDto } from './dto/upload-chunk.dto';
import { ReceivedChunks } from './received-chunks';

/** A chunk streamed to storage, waiting for its request's fields to be validated and committed. */
export interface StreamedChunk {
  /** Its storage key (in tmp/ or in its session). */
  key: string;
  size: number;
  sha256: string;
  /** Set when it streamed straight into a live session, whose progress already counted its bytes. */
  countedIn?: LiveUpload;
  /** Set once deleted (or used); releasing twice is a no-op. */
  released?: boolean;
}

const EMPTY = { nextIndex: 0, totalChunks: null, bytesReceived: 0, received: new ReceivedChunks() };

/** A session as committed, with its received chunks (read from its manifest). */
interface SessionState {
  session: ChunkSessionRecord;
  received: ReceivedChunks;
  plan?: ChunkPlan;
}

/**
 * The seed chunk API's rules. Chunks stream to their own files without any lock; committing one (append or park,
 * then the session record) and finalising take the upload's lease (UploadLocks), so a session's assembly file and
 * record have one writer at a time across every instance.
 */
@Injectable()
export class SeedChunkService implements OnModuleInit {
  private readonly maxChunkBytes: number;
  private readonly maxTotalBytes: number;

  constructor(
    private readonly sessions: ChunkSessionsService,
    private readonly assembly: ChunkAssembly,
    private readonly finaliser: ChunkFinaliser,
    private readonly lifecycle: ChunkLifecycle,
    private readonly manifest: ChunkManifest,
    private readonly tracker: ProgressTracker,
    config: ConfigService<AppConfig, true>,
    private readonly quota: QuotaService,
  ) {
    const uploads = config.get('uploads', { infer: true });
    this.maxChunkBytes = uploads.maxChunkBytes;
    this.maxTotalBytes = uploads.maxResumableBytes;
  }

  onModuleInit(): void {
    // Chunks of unfinished sessions, and their metadata, hold disk space: they count against the quota.
    this.quota.registerUsage('chunked', (userId) => this.sessions.openBytes(userId));
  }

  /**
   * Streams one chunk to disk (called by the multer engine). When the fields came before the file and name a
   * session, the bytes go into its folder and feed its live progress, and a cancel stops them; otherwise they
   * go to tmp/ until the request's fields are known.
   */
  async receive(user: AuthUser, fields: Record<string, unknown>, source: Readable): Promise<StreamedChunk> {
    const fileId = fields.fileId;
    if (fileId !== undefined && (typeof fileId !== 'string' || !FILE_ID_PATTERN.test(fileId))) {
      throw invalidFileId();
    }
    const session = fileId
      ? (this.lifecycle.hint(user.userId, fileId) ?? (await this.sessions.find(user.userId, fileId)))
      : null;
    if (!session) {
      const limit = Math.min(this.maxChunkBytes, this.maxTotalBytes);
      const target = this.assembly.openStaging();
      return this.write(user, source, target, limit);
    }
    assertOpen(session);
    const live = await this.lifecycle.liveFor(session);
    // Only sizes the room for a resent chunk: the commit re-reads the manifest under the lock.
    const received = await this.readManifest(session).catch(() => EMPTY.received);
    const replaced = received.get(Number(fields.chunkIndex))?.size ?? 0;
    const room = this.maxTotalBytes - session.bytesReceived + replaced;
    const target = this.assembly.openIncoming(refOf(session));
    return this.write(user, source, target, Math.min(this.maxChunkBytes, room), live);
  }

  /** Commits a streamed chunk (or, without one, only finalises) and answers in the seed's shape. */
  async upload(user: AuthUser, dto: UploadChunkDto, chunk?: StreamedChunk): Promise<ChunkUploadDataDto> {
    let used = false;
    try {
      if (!chunk && dto.status !== 'completed') {
        throw new ApiError(
          HttpStatus.BAD_REQUEST,
          ChunkErrorCode.FILE_REQUIRED,
          'The chunk (field `file`) is missing',
        );
      }
      if (chunk && dto.chunkSha256 && dto.chunkSha256.toLowerCase() !== chunk.sha256) {
        throw new ApiError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          ChunkErrorCode.CHECKSUM_MISMATCH,
          `Chunk ${dto.chunkIndex} does not match chunkSha256; it was discarded`,
          { expected: dto.chunkSha256.toLowerCase(), actual: chunk.sha256 },
        );
      }
      // A session removed while we waited for its lock (a failed first chunk's rollback) is looked up again.
      for (let attempt = 1; ; attempt++) {
        const found = await this.findOrCreate(user, dto, chunk);
        const answer = await this.lifecycle.withLease(user.userId, found.session.uploadId, async (lost) => {
          const state = await this.commit(dto, found, lost, chunk);
          if (!state) return null;
          const { session, received, plan } = state;
          used = plan !== undefined && plan !== 'duplicate';
          const live = await this.afterCommit(session, chunk, used);
          if (dto.status === 'completed') {
            lost.throwIfAborted();
            this.lifecycle.forget(session);
            const finished = await this.finaliser.finalise(session, received, dto.chunkIndex, live);
            return this.reply(dto, finished.session, plan === 'duplicate', finished);
          }
          this.lifecycle.remember(session);
          return this.reply(dto, session, plan === 'duplicate');
        });
        if (answer) return answer;
        if (attempt === 3) throw uploadBusy(found.session.uploadId);
      }
    } catch (error) {
      this.lifecycle.forgetKey(user.userId, dto.fileId);
      throw asHttpError(error);
    } finally {
      if (chunk) await this.release(chunk, used);
    }
  }

  /** Deletes a streamed chunk nobody used and takes its bytes back out of the live progress. */
  async release(chunk: StreamedChunk, used = false): Promise<void> {
    if (chunk.released) return;
    chunk.released = true;
    if (!used && chunk.countedIn && !chunk.countedIn.ended) {
      chunk.countedIn.setBytes(Math.max(0, chunk.countedIn.bytesUploaded - chunk.size));
    }
    await this.assembly.discardFile(chunk.key);
  }

  /** Everything a client needs to resume; the same answer for an unknown fileId and another user's. */
  async status(user: AuthUser, fileId: string): Promise<ChunkStatusDataDto> {
    const session = await this.sessions.find(user.userId, fileId);
    if (session?.status !== 'uploading') return chunkStatusView(fileId, session);
    try {
      return chunkStatusView(fileId, session, await this.readManifest(session));
    } catch (error) {
      // Ended while we read (its folder is gone): answer with what the record says now.
      const now = await this.sessions.find(user.userId, fileId);
      if (now?.status === 'uploading') throw error;
      return chunkStatusView(fileId, now);
    }
  }

  private readManifest(session: ChunkSessionRecord): Promise<ReceivedChunks> {
    return this.manifest.read(refOf(session), session.manifestBytes ?? 0);
  }

  private async write(
    user: AuthUser,
    source: Readable,
    target: { key: string; stream: Writable },
    sizeLimit: number,
    live?: LiveUpload,
  ): Promise<StreamedChunk> {
    let counted = 0;
    let streamed = 0;
    // A chunk's size is never declared: the quota cuts it mid-stream, before the byte that would exceed it.
    // Each chunk's metadata is charged up front, so even empty chunks cannot grow the session past the quota.
    const reservation = await this.quota
      .reserve(user.userId, CHUNK_METADATA_BYTES)
      .catch(async (error: unknown) => {
        target.stream.destroy();
        if (!target.stream.closed) await new Promise((done) => target.stream.once('close', done));
        await this.assembly.discardFile(target.key);
        throw error;
      });
    const limit = Math.min(sizeLimit, reservation.room);
    try {
      const written = await writeChunk(source, target.stream, {
        limit,
        tooLarge: () =>
          limit < sizeLimit
            ? quotaExceeded(reservation.baseline, this.quota.limitBytes, streamed)
            : sizeLimit >= this.maxChunkBytes
              ? chunkTooLarge(this.maxChunkBytes)
              : totalTooLarge(this.maxTotalBytes),
        signal: live?.signal,
        onBytes: (bytes) => {
          streamed += bytes;
          reservation.grow(streamed);
          if (!live) return;
          counted += bytes;
          live.add(bytes);
        },
      });
      return { key: target.key, ...written, countedIn: live };
    } catch (error) {
      if (live && !live.ended) live.setBytes(Math.max(0, live.bytesUploaded - counted));
      await this.assembly.discardFile(target.key);
      throw asHttpError(error);
    } finally {
      reservation.release();
    }
  }

  /** The session of `dto.fileId`, created (unique insert, so one instance wins) by a first chunk. */
  private async findOrCreate(user: AuthUser, dto: UploadChunkDto, chunk?: StreamedChunk) {
    const session = await this.sessions.find(user.userId, dto.fileId);
    if (session) return { session, created: false };
    if (!chunk) {
      throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'No chunk was received for this fileId');
    }
    // Refuse a bad first chunk before anything is created, so a failed request leaves nothing behind.
    planChunk(EMPTY, { ...chunkFacts(dto, chunk) }, this.maxTotalBytes);
    return this.lifecycle.createSession(user, dto);
  }

  /**
   * Applies the chunk to the session as committed now. Runs under the session's lease; null when the session found
   * before is gone (rolled back by its failed first chunk).
   */
  private async commit(
    dto: UploadChunkDto,
    found: { session: ChunkSessionRecord; created: boolean },
    lost: AbortSignal,
    chunk?: StreamedChunk,
  ): Promise<SessionState | null> {
    const session = await this.sessions.find(String(found.session.userId), dto.fileId);
    if (session?.uploadId !== found.session.uploadId) return null;
    assertOpen(session);
    const received = await this.readManifest(session);
    if (!chunk) return { session, received };
    try {
      return await this.apply({ session, received }, dto, chunk, lost);
    } catch (error) {
      // Only while no chunk is in it: a concurrent request may have committed one since the session was created.
      if (found.created && received.count === 0 && !lost.aborted) await this.lifecycle.rollback(session);
      throw error;
    }
  }

  private async apply(
    { session, received }: SessionState,
    dto: UploadChunkDto,
    chunk: StreamedChunk,
    lost: AbortSignal,
  ): Promise<SessionState> {
    const state = { ...session, received };
    const totalChunks = effectiveTotal(state, dto.totalChunks);
    const plan = planChunk(state, chunkFacts(dto, chunk), this.maxTotalBytes);
    const expiresAt = this.lifecycle.expiry();
    const { nextIndex, assembledBytes, bytesReceived } = session;
    const committed = { receivedCount: received.count, manifestBytes: session.manifestBytes ?? 0 };
    if (plan === 'duplicate') {
      if (totalChunks === session.totalChunks) return { session, received, plan };
      lost.throwIfAborted();
      const progress = { ...committed, nextIndex, assembledBytes, bytesReceived, totalChunks, expiresAt };
      return { session: await this.sessions.saveProgress(session, progress), received, plan };
    }
    const ref = refOf(session);
    let appended = { nextIndex, assembledBytes, absorbed: [] as number[] };
    // Each write checks the lease first: once it is lost, another instance may be writing this session.
    lost.throwIfAborted();
    if (plan === 'park') await this.assembly.park(ref, dto.chunkIndex, chunk.key);
    else appended = await this.assembly.append(ref, { nextIndex, assembledBytes, parked: received }, chunk);
    const fact = { index: dto.chunkIndex, size: chunk.size, sha256: chunk.sha256 };
    lost.throwIfAborted();
    const manifestBytes = await this.manifest.append(ref, committed.manifestBytes, fact);
    lost.throwIfAborted();
    const saved = await this.sessions.saveProgress(session, {
      receivedCount: received.count + 1,
      manifestBytes,
      nextIndex: appended.nextIndex,
      assembledBytes: appended.assembledBytes,
      bytesReceived: bytesReceived + chunk.size,
      totalChunks,
      expiresAt,
    });
    this.manifest.committed(ref, received, fact, manifestBytes);
    // Absorbed parts left behind by a failure here are harmless: the folder goes when the session ends.
    await this.assembly.removeParts(ref, appended.absorbed).catch(() => undefined);
    return { session: saved, received, plan };
  }

  /** Progress and expiry after a commit: the live upload is (re)started if this instance does not hold it. */
  private async afterCommit(session: ChunkSessionRecord, chunk: StreamedChunk | undefined, used: boolean) {
    const held = this.tracker.get(String(session.userId), session.uploadId);
    const live = await this.lifecycle.liveFor(session);
    if (used && held === live && chunk && !chunk.countedIn) live.add(chunk.size);
    if (session.totalChunks) live.setFraction(session.receivedCount / session.totalChunks);
    if (used) await this.lifecycle.touch(session);
    return live;
  }

  private reply(
    dto: UploadChunkDto,
    session: ChunkSessionRecord,
    duplicate: boolean,
    finished?: FinishedChunkUpload,
  ): ChunkUploadDataDto {
    return {
      message: 'Video chunk uploaded successfully',
      fileId: dto.fileId,
      chunkIndex: dto.chunkIndex,
      status: dto.status,
      uploadId: session.uploadId,
      duplicate,
      receivedCount: session.receivedCount ?? 0,
      nextChunkIndex: session.nextIndex,
      totalChunks: session.totalChunks,
      bytesReceived: session.bytesReceived,
      ...(finished?.facts ?? {}),
    };
  }
}

function chunkFacts(dto: UploadChunkDto, chunk: StreamedChunk) {
  return { index: dto.chunkIndex, size: chunk.size, sha256: chunk.sha256, totalChunks: dto.totalChunks };
}

/** A session takes chunks only while uploading. */
function assertOpen(session: ChunkSessionRecord): void {
  if (session.status === 'uploading') return;
  if (session.status === 'completed') {
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.UPLOAD_COMPLETED,
      'This upload is already complete',
      {
        uploadId: session.uploadId,
      },
    );
  }
  throw new ApiError(HttpStatus.CONFLICT, ChunkErrorCode.UPLOAD_ENDED, `This upload was ${session.status}`, {
    uploadId: session.uploadId,
    uploadStatus: session.status,
  });
}

/** Cancellation and a full disk as HTTP errors; everything else as it is. */
function asHttpError(error: unknown): unknown {
  if (error instanceof UploadCancelledError) {
    return new ApiError(HttpStatus.CONFLICT, ChunkErrorCode.UPLOAD_CANCELLED, 'The upload was cancelled');
  }
  if (isDiskFullError(error)) {
    return new ApiError(
      HttpStatus.INSUFFICIENT_STORAGE,
      ErrorCode.INSUFFICIENT_STORAGE,
      'The server is out of storage',
    );
  }
  return error;
}
