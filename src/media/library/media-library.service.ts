import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { ProcessingQueue } from '../../processing';
import { UploadProgressService } from '../../progress';
import { derivedPrefix, StorageDriver } from '../../storage';
import {
  MediaDeletedResponseDto,
  MediaItemResponseDto,
  MediaListResponseDto,
  SignedUrlResponseDto,
} from '../dto/media-response.dto';
import { ListMediaQueryDto } from '../dto/list-media-query.dto';
import { contentUrl, MediaRecord, MediaRecordsService } from '../media-records.service';
import { contentDisposition } from './content-disposition';
import { MediaContent } from './content-response';
import { chooseDerived, DerivedName, derivedUrls } from './derived-files';
import { MediaUrlSigner, withSignedQuery } from './media-url-signer.service';
import { toMediaView } from './media-view';

/** Thumbnails and posters: their URL is per media and they never change once made. */
const IMMUTABLE = 'private, max-age=31536000, immutable';

/** What a route knows about a file before the storage is asked for its size. */
type ServedFacts = Pick<MediaContent, 'mimeType' | 'etag' | 'downloadName' | 'cacheControl'> & {
  lastModified?: Date;
};

/**
 * The caller's media: list, read, stream (original and derived files), sign, delete. Another user's upload is
 * indistinguishable from none.
 */
@Injectable()
export class MediaLibraryService {
  private readonly logger = new Logger(MediaLibraryService.name);

  constructor(
    private readonly records: MediaRecordsService,
    private readonly progress: UploadProgressService,
    private readonly storage: StorageDriver,
    private readonly signer: MediaUrlSigner,
    private readonly processing: ProcessingQueue,
  ) {}

  async list(userId: string, query: ListMediaQueryDto): Promise<MediaListResponseDto> {
    const page = await this.records.list(userId, query);
    return { success: true, items: page.items.map(toMediaView), nextCursor: page.nextCursor };
  }

  async get(userId: string, uploadId: string): Promise<MediaItemResponseDto> {
    return { success: true, media: toMediaView(await this.owned(userId, uploadId)) };
  }

  /** The original file. */
  async content(userId: string, uploadId: string): Promise<MediaContent> {
    return this.original(this.completed(await this.owned(userId, uploadId)));
  }

  /**
   * A derived file (see chooseDerived for 404 vs 409). Thumbnails and posters never change at their URL, so clients
   * may keep them; a rendition that is the original is served as the original.
   */
  async derived(userId: string, uploadId: string, name: DerivedName): Promise<MediaContent> {
    const record = this.completed(await this.owned(userId, uploadId));
    const file = chooseDerived(record, name);
    if (file === 'original') return this.original(record);
    const etag = file.etag.startsWith('"') ? file.etag : `"${file.etag}"`;
    return this.stored(record, file.key, {
      mimeType: file.mimeType,
      etag,
      lastModified: record.processing?.updatedAt ?? record.completedAt,
      downloadName: downloadName(record, file.key),
      cacheControl: name === 'rendition' ? undefined : IMMUTABLE,
    });
  }

  /**
   * Runs a completed upload's processing again from its first attempt (after it failed, or to remake its files);
   * 409 while it is still pending or running, or when the upload has no content.
   */
  async reprocess(userId: string, uploadId: string): Promise<MediaItemResponseDto> {
    const record = this.completed(await this.owned(userId, uploadId));
    const status = record.processing?.status;
    if (status === 'pending' || status === 'running') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        ErrorCode.PROCESSING_IN_PROGRESS,
        `The processing of upload ${uploadId} is ${status}; wait for it to end`,
        { processing: { status } },
      );
    }
    await this.processing.restart({ userId, uploadId });
    return this.get(userId, uploadId);
  }

  async signedUrl(userId: string, uploadId: string): Promise<SignedUrlResponseDto> {
    const record = this.completed(await this.owned(userId, uploadId));
    const { query, expiresAt } = this.signer.sign(userId, uploadId);
    const sign = (url: string | null) => (url ? withSignedQuery(url, query) : null);
    const urls = derivedUrls(record);
    return {
      success: true,
      url: sign(contentUrl(uploadId)) as string,
      expiresAt,
      thumbnailUrl: sign(urls.thumbnailUrl),
      previewUrl: sign(urls.previewUrl),
      posterUrl: sign(urls.posterUrl),
      renditionUrl: sign(urls.renditionUrl),
    };
  }

  /**
   * Deletes a finished upload (completed, failed, cancelled or expired): file, derived files, progress record, then
   * the media record last, so a failure part-way leaves a record to retry with. An upload still in flight answers
   * 409: cancel it first, which stops its stream.
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
    await this.storage.removePrefix(derivedPrefix(userId, uploadId));
    await this.progress.remove(userId, uploadId);
    await this.records.remove(userId, uploadId);
    return { success: true, message: 'Media deleted', uploadId };
  }

  private async owned(userId: string, uploadId: string): Promise<MediaRecord> {
    const record = await this.records.findOwned(userId, uploadId);
    if (!record) throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Media not found');
    return record;
  }

  private original(record: MediaRecord): Promise<MediaContent> {
    return this.stored(record, record.storageKey as string, {
      mimeType: record.mimeType ?? 'application/octet-stream',
      etag: `"${record.checksumSha256}"`,
      lastModified: record.completedAt,
      downloadName: downloadName(record),
    });
  }

  /** A stored object as servable content; a lost object is our 404 (logged), never S3's or a broken stream. */
  private async stored(record: MediaRecord, key: string, facts: ServedFacts): Promise<MediaContent> {
    const stats = await this.storage.stat(key).catch((error: Error) => error);
    if (!stats || stats instanceof Error) {
      this.logger.error(
        `${key} of completed upload ${record.uploadId} is missing: ${stats?.message ?? 'no such object'}`,
      );
      throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Media content not found');
    }
    return {
      ...facts,
      size: stats.size,
      lastModified: facts.lastModified ?? stats.modifiedAt,
      open: (range) => this.storage.openRead(key, range),
      // Checked above, so a lost object answers our 404 rather than a redirect to S3's.
      redirectUrl: await this.storage.downloadUrl(key, {
        contentType: facts.mimeType,
        contentDisposition: contentDisposition('inline', facts.downloadName),
      }),
    };
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

/**
 * The client's name with the detected extension (so a renamed file cannot pose as another type), else ours; for a
 * derived file, the stem with the derived file's name (`Holiday-thumbnail-small.webp`).
 */
function downloadName(record: MediaRecord, derivedKey?: string): string {
  const stored = record.fileName ?? record.uploadId;
  const ext = stored.includes('.') ? stored.slice(stored.lastIndexOf('.')) : '';
  const dot = record.originalName?.lastIndexOf('.') ?? -1;
  const stem = record.originalName
    ? dot > 0
      ? record.originalName.slice(0, dot)
      : record.originalName
    : stored.slice(0, stored.length - ext.length);
  if (derivedKey) return `${stem}-${derivedKey.slice(derivedKey.lastIndexOf('/') + 1)}`;
  return record.originalName ? `${stem}${ext}` : stored;
}
