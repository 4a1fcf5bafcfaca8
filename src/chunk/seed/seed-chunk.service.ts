import { HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Readable } from 'node:stream';
import { AuthUser } from '../../common/decorators/current-user.decorator';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { AppConfig } from '../../config';
import { QuotaService } from '../../quota';
import { UploadClaim, UploadClaims, uploadBusy } from '../../upload-core';
import { asHttpError, assertOpen, chunkChecksumMismatch, chunkReply, fileRequired } from './chunk-answers';
import { ChunkAssembly } from './chunk-assembly';
import { chunkFacts, commitChunk, SessionState } from './chunk-commit';
import { ChunkTarget, StreamedChunk, streamChunk } from './chunk-intake';
import { ChunkFinaliser } from './chunk-finaliser';
import { ChunkLifecycle, refOf } from './chunk-lifecycle.service';
import { ChunkManifest } from './chunk-manifest';
import { CHUNK_METADATA_BYTES, FILE_ID_PATTERN, invalidFileId, planChunk } from './chunk-rules';
import { ChunkSessionRecord, ChunkSessionsService } from './chunk-sessions.service';
import { chunkStatusView } from './chunk-status.view';
import { ChunkStatusDataDto } from './dto/chunk-status-response.dto';
import { ChunkUploadDataDto } from './dto/chunk-upload-response.dto';
import { UploadChunkDto } from './dto/upload-chunk.dto';
import { ReceivedChunks } from './received-chunks';

export type { StreamedChunk } from './chunk-intake';

const EMPTY = { nextIndex: 0, totalChunks: null, bytesReceived: 0, received: new ReceivedChunks() };

/**
 * The seed chunk API's rules, an adapter over the upload core that claims per chunk: streaming one claims its quota
 * (and, in a known session, the session's live progress) without any lock; committing it (append or park, then the
 * session record) and finalising claim the upload's lease, so a session's assembly file and record have one writer
 * at a time across every instance.
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
    config: ConfigService<AppConfig, true>,
    private readonly quota: QuotaService,
    private readonly claims: UploadClaims,
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
    if (session) assertOpen(session);
    // A chunk's size is never declared: the quota cuts it mid-stream, before the byte that would exceed it.
    // Each chunk's metadata is charged up front, so even empty chunks cannot grow the session past the quota.
    const claim = await this.claims.claim({
      userId: user.userId,
      // Before its session is known a chunk claims only quota: the id then names nothing.
      uploadId: session?.uploadId ?? '',
      source: 'chunked',
      quota: { reserve: CHUNK_METADATA_BYTES },
      progress: session ? this.lifecycle.progressOf(session) : undefined,
    });
    try {
      if (!session) {
        const limit = Math.min(this.maxChunkBytes, this.maxTotalBytes);
        return await this.stream(claim, source, this.assembly.openStaging(), limit);
      }
      // Only sizes the room for a resent chunk: the commit re-reads the manifest under the lock.
      const received = await this.readManifest(session).catch(() => EMPTY.received);
      const replaced = received.get(Number(fields.chunkIndex))?.size ?? 0;
      const room = this.maxTotalBytes - session.bytesReceived + replaced;
      const target = this.assembly.openIncoming(refOf(session));
      return await this.stream(claim, source, target, Math.min(this.maxChunkBytes, room));
    } finally {
      await claim.release();
    }
  }

  /** Commits a streamed chunk (or, without one, only finalises) and answers in the seed's shape. */
  async upload(user: AuthUser, dto: UploadChunkDto, chunk?: StreamedChunk): Promise<ChunkUploadDataDto> {
    let used = false;
    try {
      if (!chunk && dto.status !== 'completed') throw fileRequired();
      const expected = dto.chunkSha256?.toLowerCase();
      if (chunk && expected && expected !== chunk.sha256) {
        throw chunkChecksumMismatch(dto.chunkIndex, expected, chunk.sha256);
      }
      // A session removed while we waited for its lock (a failed first chunk's rollback) is looked up again.
      for (let attempt = 1; ; attempt++) {
        const found = await this.findOrCreate(user, dto, chunk);
        const answer = await this.lifecycle.withLease(user.userId, found.session.uploadId, async (claim) => {
          const state = await this.commit(dto, found, claim.lost, chunk);
          if (!state) return null;
          const { session, received, plan } = state;
          used = plan !== undefined && plan !== 'duplicate';
          await this.afterCommit(claim, session, chunk, used);
          if (dto.status === 'completed') {
            claim.lost.throwIfAborted();
            this.lifecycle.forget(session);
            const finished = await this.finaliser.finalise(claim, session, received, dto.chunkIndex);
            return chunkReply(dto, finished.session, plan === 'duplicate', finished);
          }
          this.lifecycle.remember(session);
          return chunkReply(dto, session, plan === 'duplicate');
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

  private stream(claim: UploadClaim, source: Readable, target: ChunkTarget, sizeLimit: number) {
    const limits = {
      maxChunkBytes: this.maxChunkBytes,
      maxTotalBytes: this.maxTotalBytes,
      quotaBytes: this.quota.limitBytes,
    };
    return streamChunk(claim, source, target, sizeLimit, limits, (key) => this.assembly.discardFile(key));
  }

  private readManifest(session: ChunkSessionRecord): Promise<ReceivedChunks> {
    return this.manifest.read(refOf(session), session.manifestBytes ?? 0);
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
    const target = {
      sessions: this.sessions,
      assembly: this.assembly,
      manifest: this.manifest,
      maxTotalBytes: this.maxTotalBytes,
      expiresAt: this.lifecycle.expiry(),
    };
    try {
      return await commitChunk(target, { session, received }, dto, chunk, lost);
    } catch (error) {
      // Only while no chunk is in it: a concurrent request may have committed one since the session was created.
      if (found.created && received.count === 0 && !lost.aborted) await this.lifecycle.rollback(session);
      throw error;
    }
  }

  /** Progress and expiry after a commit: the live progress is claimed (re-attached, or resumed after a restart). */
  private async afterCommit(
    claim: UploadClaim,
    session: ChunkSessionRecord,
    chunk: StreamedChunk | undefined,
    used: boolean,
  ): Promise<void> {
    const { live, resumed } = await claim.attach(this.lifecycle.progressOf(session));
    // A live upload started now counted the committed bytes already; one held before has not seen a tmp/ chunk.
    if (used && resumed && chunk && !chunk.countedIn) live.add(chunk.size);
    if (session.totalChunks) live.setFraction(session.receivedCount / session.totalChunks);
    if (used) await this.lifecycle.touch(session);
  }
}
