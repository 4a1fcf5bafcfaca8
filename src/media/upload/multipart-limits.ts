import { MAX_DESCRIPTION_LENGTH } from '../dto/media-upload-fields.dto';

/**
 * Room for what a multipart body carries besides the file: boundaries, part headers and the text fields (a
 * 5000-character description is up to 20 000 bytes of UTF-8). A declared Content-Length above MAX_MEDIA_BYTES plus
 * this is refused before the body is read.
 */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** multer/busboy limits for POST /api/upload/media: every one finite. */
export function multipartLimits(maxFileBytes: number) {
  return {
    fileSize: maxFileBytes,
    files: 1,
    /** fileType, title, description, chatId, groupId, with room for a few unknown ones to be reported. */
    fields: 10,
    parts: 11,
    fieldNameSize: 100,
    /** UTF-8 is at most 4 bytes per character. */
    fieldSize: MAX_DESCRIPTION_LENGTH * 4 + 1024,
    headerPairs: 20,
    /** `a[b]` style names would build nested objects; the form has none. */
    fieldNestingDepth: 0,
  };
}
