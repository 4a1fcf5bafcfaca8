import { HttpStatus } from '@nestjs/common';
import { isValidObjectId } from 'mongoose';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { MEDIA_CATEGORIES, MediaCategory } from '../../common/uploads/upload-status';

export const FILENAME_MAX = 255;
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;

/** What a tus client may say about its upload in `Upload-Metadata`. */
export interface TusUploadMetadata {
  /** `filename`: the client's file name, for display only. */
  originalName?: string;
  /**
   * `fileType`: the category the content must match (video, photo or camera). Without it, `filetype` (the MIME type
   * Uppy and tus-js-client send) names it: `image/*` photo, `video/*` video, anything else or none camera (either).
   */
  fileType: MediaCategory;
  title: string;
  description: string;
  chatId?: string;
}

// C0 and C1 control characters, DEL included.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(;.*)?$/i;

/**
 * Validates the Upload-Metadata pairs we use; other keys (Uppy sends `name`, `type`, `relativePath`) are
 * ignored. `filetype` only picks the category when `fileType` is absent: the stored type is always sniffed from the
 * content.
 */
export function parseTusMetadata(raw: Record<string, string | null> | undefined): TusUploadMetadata {
  const value = (key: string) => raw?.[key] ?? undefined;
  const errors: Record<string, string[]> = {};
  const fail = (key: string, message: string) => (errors[key] = [message]);

  const fileName = value('filename')?.replace(CONTROL, '').trim();
  if (fileName !== undefined && fileName.length > FILENAME_MAX) {
    fail('filename', `filename must be at most ${FILENAME_MAX} characters`);
  }
  const mime = value('filetype');
  if (mime !== undefined && mime !== '' && !MIME.test(mime)) fail('filetype', 'filetype must be a MIME type');
  const category = value('fileType') ?? categoryOf(mime);
  if (!MEDIA_CATEGORIES.includes(category as MediaCategory)) {
    fail('fileType', `fileType must be one of ${MEDIA_CATEGORIES.join(', ')}`);
  }
  const title = value('title') ?? '';
  if (title.length > TITLE_MAX) fail('title', `title must be at most ${TITLE_MAX} characters`);
  const description = value('description') ?? '';
  if (description.length > DESCRIPTION_MAX) {
    fail('description', `description must be at most ${DESCRIPTION_MAX} characters`);
  }
  const chatId = value('chatId');
  if (chatId !== undefined && !(/^[0-9a-f]{24}$/i.test(chatId) && isValidObjectId(chatId))) {
    fail('chatId', 'chatId must be a 24-character hex id');
  }

  if (Object.keys(errors).length > 0) {
    const message = Object.values(errors).flat().join('; ');
    throw new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, message, { errors });
  }
  return {
    originalName: fileName || undefined,
    fileType: category as MediaCategory,
    title,
    description,
    chatId,
  };
}

function categoryOf(mime: string | undefined): MediaCategory {
  const top = mime?.split('/', 1)[0].toLowerCase();
  return top === 'image' ? 'photo' : top === 'video' ? 'video' : 'camera';
}
