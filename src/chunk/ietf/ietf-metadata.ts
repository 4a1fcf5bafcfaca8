import { parse as parseContentDisposition } from 'content-disposition';
import type { IncomingHttpHeaders } from 'node:http';
import type { MediaCategory } from '../../common/uploads/upload-status';
import { validateUploadFields } from '../../media';
import { sanitizeOriginalName } from '../../media';

/** What an IETF-draft creation request says about its file, validated like the multipart form fields. */
export interface IetfUploadMetadata {
  fileType: MediaCategory;
  /** No category was declared: `fileType` is `camera` (photo or video) until the content decides. */
  inferCategory: boolean;
  title: string;
  description: string;
  chatId?: string;
  originalName?: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Reads `X-File-Type` (absent: an `image/*` or `video/*` Content-Type picks photo or video, anything else leaves it
 * to the content), `X-Title`, `X-Description`, `X-Chat-Id` (400 VALIDATION_FAILED exactly as the multipart fields)
 * and the file name of `Content-Disposition` (RFC 6266, `filename*` preferred, made safe to display).
 */
export async function readUploadMetadata(headers: IncomingHttpHeaders): Promise<IetfUploadMetadata> {
  const declared = header(headers, 'x-file-type') ?? categoryOf(headers['content-type']);
  const fields = await validateUploadFields({
    fileType: declared ?? 'camera',
    ...optional('title', header(headers, 'x-title')),
    ...optional('description', header(headers, 'x-description')),
    ...optional('chatId', header(headers, 'x-chat-id')),
  });
  return {
    fileType: fields.fileType,
    inferCategory: declared === undefined,
    title: fields.title ?? '',
    description: fields.description ?? '',
    chatId: fields.chatId,
    originalName: fileNameOf(header(headers, 'content-disposition')),
  };
}

function optional(key: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [key]: decodeUtf8(value) };
}

/** Node reads header bytes as latin1: a UTF-8 title comes back as what the client meant. */
function decodeUtf8(value: string): string {
  const decoded = Buffer.from(value, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? value : decoded;
}

function categoryOf(contentType: string | undefined): MediaCategory | undefined {
  const top = contentType?.split('/', 1)[0].trim().toLowerCase();
  return top === 'image' ? 'photo' : top === 'video' ? 'video' : undefined;
}

/** An unparsable Content-Disposition only loses the display name: the upload itself is fine without it. */
function fileNameOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const { parameters } = parseContentDisposition(value);
    // The parser decodes `filename*` into `filename`, preferring it over the plain parameter.
    return sanitizeOriginalName(parameters.filename);
  } catch {
    return undefined;
  }
}
