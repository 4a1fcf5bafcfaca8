import { ChunkAssembly } from './chunk-assembly';
import { refOf } from './chunk-lifecycle.service';
import { ChunkManifest } from './chunk-manifest';
import { ChunkPlan, effectiveTotal, planChunk } from './chunk-rules';
import { ChunkSessionRecord, ChunkSessionsService } from './chunk-sessions.service';
import type { UploadChunkDto } from './dto/upload-chunk.dto';
import { ReceivedChunks } from './received-chunks';
import type { StreamedChunk } from './chunk-intake';

/** A session as committed, with its received chunks (read from its manifest). */
export interface SessionState {
  session: ChunkSessionRecord;
  received: ReceivedChunks;
  plan?: ChunkPlan;
}

/** What committing a chunk writes: the session's assembly, its manifest and its record. */
export interface ChunkCommitTarget {
  sessions: ChunkSessionsService;
  assembly: ChunkAssembly;
  manifest: ChunkManifest;
  maxTotalBytes: number;
  expiresAt: Date;
}

export function chunkFacts(dto: UploadChunkDto, chunk: StreamedChunk) {
  return { index: dto.chunkIndex, size: chunk.size, sha256: chunk.sha256, totalChunks: dto.totalChunks };
}

/**
 * Applies one streamed chunk to its session as committed now: parked or appended, then its manifest line, then the
 * session record. Runs under the upload's lease; each write checks `lost` first, as once it is lost another instance
 * may be writing this session.
 */
export async function commitChunk(
  target: ChunkCommitTarget,
  { session, received }: SessionState,
  dto: UploadChunkDto,
  chunk: StreamedChunk,
  lost: AbortSignal,
): Promise<SessionState> {
  const { sessions, assembly, manifest, expiresAt } = target;
  const state = { ...session, received };
  const totalChunks = effectiveTotal(state, dto.totalChunks);
  const plan = planChunk(state, chunkFacts(dto, chunk), target.maxTotalBytes);
  const { nextIndex, assembledBytes, bytesReceived } = session;
  const committed = { receivedCount: received.count, manifestBytes: session.manifestBytes ?? 0 };
  if (plan === 'duplicate') {
    if (totalChunks === session.totalChunks) return { session, received, plan };
    lost.throwIfAborted();
    const progress = { ...committed, nextIndex, assembledBytes, bytesReceived, totalChunks, expiresAt };
    return { session: await sessions.saveProgress(session, progress), received, plan };
  }
  const ref = refOf(session);
  let appended = { nextIndex, assembledBytes, absorbed: [] as number[] };
  lost.throwIfAborted();
  if (plan === 'park') await assembly.park(ref, dto.chunkIndex, chunk.key);
  else appended = await assembly.append(ref, { nextIndex, assembledBytes, parked: received }, chunk);
  const fact = { index: dto.chunkIndex, size: chunk.size, sha256: chunk.sha256 };
  lost.throwIfAborted();
  const manifestBytes = await manifest.append(ref, committed.manifestBytes, fact);
  lost.throwIfAborted();
  const saved = await sessions.saveProgress(session, {
    receivedCount: received.count + 1,
    manifestBytes,
    nextIndex: appended.nextIndex,
    assembledBytes: appended.assembledBytes,
    bytesReceived: bytesReceived + chunk.size,
    totalChunks,
    expiresAt,
  });
  manifest.committed(ref, received, fact, manifestBytes);
  // Absorbed parts left behind by a failure here are harmless: the folder goes when the session ends.
  await assembly.removeParts(ref, appended.absorbed).catch(() => undefined);
  return { session: saved, received, plan };
}
