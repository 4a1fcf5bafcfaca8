import { contentUrl } from '../../media';
import { missingIndexes, MISSING_LIST_LIMIT } from './chunk-rules';
import { ChunkSessionRecord } from './chunk-sessions.service';
import { ChunkStatusDataDto } from './dto/chunk-status-response.dto';
import { ReceivedChunks } from './received-chunks';

/**
 * GET /api/video/status/:fileId. An unknown fileId, and another user's, both answer `exists: false` with 200 (the
 * seed's answer for a missing file), so the route reveals nothing about other users' sessions. `received` is the
 * manifest of an uploading session; a completed one holds chunks 0..nextIndex-1, an ended one none.
 */
export function chunkStatusView(
  fileId: string,
  session: ChunkSessionRecord | null,
  received = new ReceivedChunks(),
): ChunkStatusDataDto {
  if (!session) {
    return {
      fileId,
      exists: false,
      fileSize: 0,
      lastModified: null,
      status: null,
      uploadId: null,
      receivedChunks: [],
      nextChunkIndex: 0,
      totalChunks: null,
      missingChunks: [],
      fileUrl: null,
    };
  }
  const completed = session.status === 'completed';
  return {
    fileId,
    exists: true,
    fileSize: completed ? (session.fileSize ?? 0) : session.bytesReceived,
    lastModified: session.updatedAt,
    status: session.status,
    uploadId: session.uploadId,
    receivedChunks: completed ? Array.from({ length: session.nextIndex }, (_, i) => i) : received.indexes(),
    nextChunkIndex: session.nextIndex,
    totalChunks: session.totalChunks,
    missingChunks: completed ? [] : missingIndexes({ ...session, received }).slice(0, MISSING_LIST_LIMIT),
    fileUrl: completed ? contentUrl(session.uploadId) : null,
  };
}
