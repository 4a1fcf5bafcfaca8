import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { UploadProgressService } from '../../progress';
import { StorageDriver } from '../../storage';
import {
  MediaDeletedResponseDto,
  MediaItemResponseDto,
  MediaListResponseDto,
  SignedUrlResponseDto,
} from '../dto/media-response.dto';
import { ListMediaQueryDto } from '../dto/list-media-query.dto';
import { MediaRecord, MediaRecordsService } from '../media-records.service';
import { contentDisposition } from './content-disposition';
import { MediaContent } from './content-response';
import { MediaUrlSigner } from './media-url-signer.service';
import { toMediaView } from './media-view';

/** The caller's media: list, read, stream, sign, delete. Another user's upload is indistinguishable from none. */
@Injectable()
export class MediaLibraryService {
  private readonly logger = new Logger(MediaLibraryService.name);

  constructor(
    private readonly records: MediaRecordsService,
    private readonly progress: UploadProgressService,
    private readonly storage: StorageDriver,
    private readonly signer: MediaUrlSigner,
  ) {}

  async list(userId: string, query: ListMediaQueryDto): Promise<MediaListResponseDto> {
    const page = await this.records.list(userId, query);
    return { success: true, items: page.items.map(toMediaView), nextCursor: page.nextCursor };
  }

  async get(userId: string, uploadId: string): Promise<MediaItemResponseDto> {
    return { success: true, media: toMediaView(await this.owned(userId, uploadId)) };
  }

  async content(userId: string, uploadId: string): Promise<MediaContent> {
    const record = this.completed(await this.owned(userId, uploadId));
    const key = record.storageKey as string;
    const stats = await this.storage.stat(key).catch((error: Error) => error);
    if (!stats || stats instanceof Error) {
      this.logger.error(
        `file of completed upload ${uploadId} is missing: ${stats?.message ?? 'no such object'}`,
      );
      throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Media content not found');
    }
    const mimeType = record.mimeType ?? 'application/octet-stream';
    const name = downloadName(record);
    return {
      size: stats.size,
      mimeType,
      etag: `"${record.checksumSha256}"`,
      lastModified: record.completedAt ?? stats.modifiedAt,
      downloadName: name,
      open: (range) => this.storage.openRead(key, range),
      // Checked above, so a lost object answers our 404 rather than a redirect to S3's.
      redirectUrl: await this.storage.downloadUrl(key, {
        contentType: mimeType,
        contentDisposition: contentDisposition('inline', name),
      }),
    };
  }

  async signedUrl(userId: string, uploadId: string): Promise<SignedUrlResponseDto> {
    this.completed(await this.owned(userId, uploadId));
    return { success: true, ...this.signer.sign(userId, uploadId) };
  }

  /**
   * Deletes a finished upload (completed, failed, cancelled or expired): file, progress record, then the media
   * record last, so a failure part-way leaves a record to retry with. An upload still in flight answers 409: cancel
   * it first, which stops its stream.
   */
  async remove(userId: string, uploadId: string): Promise<MediaDeletedResponseDto> {
    const record = await this.owned(userId, uploadId);
    if (record.status === 'uploading') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'UPLOAD_IN_PROGRESS',
        `Upload ${uploadId} is still in progress; cancel it first with POST /api/upload/cancel/${uploadId}`,
      );
    }
    if (record.storageKey) await this.storage.remove(record.storageKey);
    await this.progress.remove(userId, uploadId);
    await this.records.remove(userId, uploadId);
    return { success: true, message: 'Media deleted', uploadId };
  }

  private async owned(userId: string, uploadId: string): Promise<MediaRecord> {
    const record = await this.records.findOwned(userId, uploadId);
    if (!record) throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Media not found');
    return record;
  }

  private completed(record: MediaRecord): MediaRecord {
    if (record.status !== 'completed' || !record.storageKey) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'MEDIA_NOT_READY',
        `Upload ${record.uploadId} has no content: it is ${record.status}`,
        { status: record.status },
      );
    }
    return record;
  }
}

/** The client's name with the detected extension (so a renamed file cannot pose as another type), else ours. */
function downloadName(record: MediaRecord): string {
  const stored = record.fileName ?? record.uploadId;
  const ext = stored.includes('.') ? stored.slice(stored.lastIndexOf('.')) : '';
  if (!record.originalName) return stored;
  const dot = record.originalName.lastIndexOf('.');
  const stem = dot > 0 ? record.originalName.slice(0, dot) : record.originalName;
  return `${stem}${ext}`;
}
