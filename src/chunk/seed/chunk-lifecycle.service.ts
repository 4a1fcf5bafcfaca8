import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuthUser } from '../../common/decorators/current-user.decorator';
import { newUploadId } from '../../common/uploads/upload-id';
import type { AppConfig } from '../../config';
import { MediaRecordsService } from '../../media';
import { UploadCancelService } from '../../progress';
import { ClaimProgress, UploadClaim, UploadClaims, uploadBusy } from '../../upload-core';
import { ChunkAssembly, SessionRef } from './chunk-assembly';
import { ChunkManifest } from './chunk-manifest';
import { ChunkSessionRecord, ChunkSessionsService, SessionExistsError } from './chunk-sessions.service';
import { UploadChunkDto } from './dto/upload-chunk.dto';

/** A session's key in this instance's caches: its (userId, fileId). */
const sessionKey = (userId: string, fileId: string) => `${userId}/${fileId}`;
/**
 * How long a request waits for another one of the same session (a duplicate chunk waits for the original, then
 * answers `duplicate`): long enough for a finalise, bounded so a wedged holder cannot pile up requests.
 */
const LOCK_WAIT_MS = 120_000;
export const refOf = (session: ChunkSessionRecord): SessionRef => ({
  userId: String(session.userId),
  uploadId: session.uploadId,
});

/**
 * How chunk sessions begin and end on this instance: the claim of its upload under the per-upload lease (one writer
 * per upload across every instance), creation (unique insert), the live progress kept for the session's life,
 * expiry touches, and ending by cancel or expiry (the 'chunked' discarder).
 */
@Injectable()
export class ChunkLifecycle implements OnModuleInit {
  private readonly logger = new Logger(ChunkLifecycle.name);
  /** When each live session's MediaUpload expiry was last moved (see touchDue). */
  private readonly touchedAt = new Map<string, number>();
  /**
   * The last committed state of sessions this instance writes, so a chunk can start streaming without a database
   * read. Only a hint: the commit re-reads the record under the lock. Dropped on any error and when a session ends.
   */
  private readonly hints = new Map<string, ChunkSessionRecord>();
  private readonly expiryMs: number;

  constructor(
    private readonly sessions: ChunkSessionsService,
    private readonly assembly: ChunkAssembly,
    private readonly manifest: ChunkManifest,
    private readonly media: MediaRecordsService,
    private readonly cancels: UploadCancelService,
    config: ConfigService<AppConfig, true>,
    private readonly claims: UploadClaims,
  ) {
    this.expiryMs = config.get('uploads', { infer: true }).expirySeconds * 1000;
  }

  onModuleInit(): void {
    this.cancels.registerDiscarder('chunked', (userId, uploadId, status, reason) =>
      this.discard(userId, uploadId, status, reason),
    );
  }

  /**
   * Runs `fn` with the session's upload claimed under its lease: every write of its assembly file, manifest or record
   * runs under it. `claim.lost` aborts when the lease is lost (its holder must stop writing then); a failure after
   * that answers 503 UPLOAD_BUSY, as does a wait past LOCK_WAIT_MS.
   */
  async withLease<T>(userId: string, uploadId: string, fn: (claim: UploadClaim) => Promise<T>): Promise<T> {
    const claim = await this.claims.claim({
      userId,
      uploadId,
      source: 'chunked',
      lease: { waitMs: LOCK_WAIT_MS, busy: () => uploadBusy(uploadId) },
    });
    try {
      return await fn(claim);
    } catch (error) {
      throw claim.lost.aborted ? uploadBusy(uploadId, true) : error;
    } finally {
      await claim.release();
    }
  }

  /** The session's last committed state as this instance wrote it, if it has it (see `hints`). */
  hint(userId: string, fileId: string): ChunkSessionRecord | undefined {
    return this.hints.get(sessionKey(userId, fileId));
  }

  remember(session: ChunkSessionRecord): void {
    this.hints.set(sessionKey(String(session.userId), session.fileId), session);
  }

  /** Moves the MediaUpload's expiry forward after a committed chunk (rate-limited, see touchDue). */
  async touch(session: ChunkSessionRecord): Promise<void> {
    if (this.touchDue(session.uploadId)) {
      await this.media.touch(String(session.userId), session.uploadId, this.expiry());
    }
  }

  /** Creates the session folder, claims (userId, fileId) with a unique insert, then creates its MediaUpload. */
  async createSession(
    user: AuthUser,
    dto: UploadChunkDto,
  ): Promise<{ session: ChunkSessionRecord; created: boolean }> {
    const uploadId = newUploadId();
    const expiresAt = this.expiry();
    const fileType = dto.fileType ?? 'video';
    // The folder exists before the claim: a concurrent chunk that finds the new session streams into it at once.
    const folder = { userId: user.userId, uploadId };
    await this.assembly.create(folder);
    let session: ChunkSessionRecord;
    try {
      session = await this.sessions.create({
        userId: user.userId,
        fileId: dto.fileId,
        uploadId,
        fileType,
        expiresAt,
      });
    } catch (error) {
      await this.assembly.remove(folder);
      const winner =
        error instanceof SessionExistsError && (await this.sessions.find(user.userId, dto.fileId));
      if (winner) return { session: winner, created: false }; // another instance created it first
      throw error;
    }
    try {
      // Only the record: the first chunk's commit claims the lease, and its progress, next.
      const record = { create: { fileType, title: dto.title, description: dto.description, expiresAt } };
      await this.claims.claim({ userId: user.userId, uploadId, source: 'chunked', record });
    } catch (error) {
      await this.rollback(session);
      throw error;
    }
    return { session, created: true };
  }

  /** Removes a session whose first chunk failed. */
  async rollback(session: ChunkSessionRecord): Promise<void> {
    const userId = String(session.userId);
    this.manifest.forget(refOf(session));
    await Promise.all([
      this.sessions.remove(userId, session.fileId),
      this.media.remove(userId, session.uploadId),
      this.assembly.remove(refOf(session)),
    ]).catch((error: Error) => this.logger.error(`rollback of ${session.uploadId} failed: ${error.message}`));
  }

  /**
   * The session's live progress, started (or resumed after a restart) on first use and kept for the session's life,
   * so cancel can reach a chunk in flight.
   */
  progressOf(session: ChunkSessionRecord): ClaimProgress {
    return {
      totalBytes: null,
      bytesUploaded: session.bytesReceived,
      canceller: (reason) => this.end(String(session.userId), session.fileId, 'cancelled', reason),
    };
  }

  /** Ends an unfinished session: record first (no commit can follow), then its bytes, then its MediaUpload. */
  async end(userId: string, fileId: string, status: 'cancelled' | 'expired', reason: string): Promise<void> {
    this.hints.delete(sessionKey(userId, fileId));
    const found = await this.sessions.find(userId, fileId);
    if (!found || found.status === 'completed') return;
    await this.withLease(userId, found.uploadId, async (claim) => {
      this.hints.delete(sessionKey(userId, fileId));
      const session = await this.sessions.find(userId, fileId);
      if (!session || session.uploadId !== found.uploadId || session.status === 'completed') return;
      this.forget(session);
      // Record first (no commit can follow), then its bytes, its MediaUpload and its progress.
      await claim.abandon({
        status,
        reason,
        prefixes: [this.assembly.prefix(refOf(session))],
        endOwn: async () => {
          if (session.status === 'uploading') await this.sessions.end(userId, fileId, status, reason);
        },
      });
    });
  }

  /** The 'chunked' discarder: cancel of an idle session no instance holds, or expiry. Idempotent. */
  private async discard(
    userId: string,
    uploadId: string,
    status: 'cancelled' | 'expired',
    reason: string,
  ): Promise<void> {
    const session = await this.sessions.findByUploadId(userId, uploadId);
    if (!session) return;
    await this.end(userId, session.fileId, status, reason);
  }

  forgetKey(userId: string, fileId: string): void {
    this.hints.delete(sessionKey(userId, fileId));
  }

  /** Drops what this instance keeps about a session that is ending. */
  forget(session: ChunkSessionRecord): void {
    this.hints.delete(sessionKey(String(session.userId), session.fileId));
    this.touchedAt.delete(session.uploadId);
    this.manifest.forget(refOf(session));
  }

  /**
   * Whether the MediaUpload's expiry should move forward now: at most every EXPIRY/10 (and a minute), not on every
   * chunk, since a database write costs more than the rest of a chunk's bookkeeping. The session record's own
   * expiry moves on every chunk (it is written anyway).
   */
  private touchDue(uploadId: string): boolean {
    const now = Date.now();
    const last = this.touchedAt.get(uploadId);
    if (last !== undefined && now - last < Math.min(60_000, this.expiryMs / 10)) return false;
    this.touchedAt.set(uploadId, now);
    return true;
  }

  expiry(): Date {
    return new Date(Date.now() + this.expiryMs);
  }
}
