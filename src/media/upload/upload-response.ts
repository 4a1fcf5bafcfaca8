import { ApiError } from '../../common/errors/api-error';
import { MediaUploadResponseDto } from '../dto/media-response.dto';
import { MediaRecord } from '../media-records.service';
import { INPUT_ERROR_CODES } from './upload-errors';

/** Bad input changes nothing: such an upload's records are removed, and its id may be used again. */
export function isInputError(error: Error): boolean {
  if (!(error instanceof ApiError)) return false;
  const body = error.getResponse() as { error?: string };
  return INPUT_ERROR_CODES.has(body.error ?? '');
}

/** What the records keep as the reason: the client-facing message, never an internal one. */
export function reasonOf(error: Error): string {
  if (error instanceof ApiError) {
    const body = error.getResponse() as { error?: string; message?: string };
    return `${body.error}: ${body.message}`;
  }
  return 'INTERNAL_ERROR: the upload could not be stored';
}

export function toUploadResponse(record: MediaRecord): MediaUploadResponseDto {
  return {
    success: true,
    message: 'Media uploaded successfully',
    uploadId: record.uploadId,
    fileUrl: record.fileUrl ?? '',
    fileName: record.fileName ?? '',
    fileType: record.fileType,
    fileSize: record.fileSize ?? 0,
    mimeType: record.mimeType ?? '',
    checksumSha256: record.checksumSha256 ?? '',
    originalName: record.originalName ?? null,
    status: record.status,
    title: record.title,
    description: record.description,
    chatId: record.chatId ? String(record.chatId) : null,
    groupId: record.groupId ? String(record.groupId) : null,
    uploadedAt: record.uploadedAt,
    completedAt: record.completedAt ?? new Date(),
  };
}
