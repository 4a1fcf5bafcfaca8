import { MediaResponseDto } from '../dto/media-response.dto';
import type { MediaRecord } from '../media-records.service';
import { derivedUrls } from './derived-files';

/**
 * A record as the library shows it: ids as strings, internal fields (userId, storageKey, derived files' keys) left
 * out, links to the derived files that exist.
 */
export function toMediaView(record: MediaRecord): MediaResponseDto {
  return {
    uploadId: record.uploadId,
    source: record.source,
    fileType: record.fileType,
    title: record.title,
    description: record.description,
    chatId: record.chatId ? String(record.chatId) : null,
    groupId: record.groupId ? String(record.groupId) : null,
    originalName: record.originalName ?? null,
    fileName: record.fileName ?? null,
    mimeType: record.mimeType ?? null,
    fileSize: record.fileSize ?? null,
    checksumSha256: record.checksumSha256 ?? null,
    fileUrl: record.fileUrl ?? '',
    status: record.status,
    failureReason: record.failureReason ?? null,
    uploadedAt: record.uploadedAt,
    completedAt: record.completedAt ?? null,
    cancelledAt: record.cancelledAt ?? null,
    metadata: record.metadata ?? null,
    processing:
      record.status === 'completed' && record.processing
        ? { status: record.processing.status, error: record.processing.error }
        : null,
    ...derivedUrls(record),
  };
}
