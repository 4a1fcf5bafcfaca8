import { fileTypeFromBuffer } from 'file-type';

/** What the client says it is uploading; camera uploads may be either photos or videos. */
export type MediaCategory = 'video' | 'photo' | 'camera';

/** A media type detected from file content, normalised to the extension and MIME we store. */
export interface SniffedType {
  ext: string;
  mime: string;
  kind: 'video' | 'photo';
}

/** How many leading bytes the sniffer needs (file-type's documented sample size, 4100). */
export const SNIFF_BYTES = 4100;

const video = (ext: string, mime: string): SniffedType => ({ ext, mime, kind: 'video' });
const photo = (ext: string, mime: string): SniffedType => ({ ext, mime, kind: 'photo' });

// Keyed by file-type's `ext/mime` pair: some of its results share a MIME (f4v and m4p also report video/mp4)
// and some share an ext (heic covers four MIMEs), so neither alone is a safe key.
const ALLOWED: ReadonlyMap<string, SniffedType> = new Map([
  ['mp4/video/mp4', video('mp4', 'video/mp4')],
  // Apple's M4V brand is plain MPEG-4 video as exported by iPhones and Macs; f4v (Flash) and m4p (DRM) stay out.
  ['m4v/video/x-m4v', video('mp4', 'video/mp4')],
  ['mov/video/quicktime', video('mov', 'video/quicktime')],
  ['webm/video/webm', video('webm', 'video/webm')],
  // file-type 21+ reports Matroska by its registered name; the API keeps answering the name it always has.
  ['mkv/video/matroska', video('mkv', 'video/x-matroska')],
  ['3gp/video/3gpp', video('3gp', 'video/3gpp')],
  // 3GPP2 is the CDMA phones' sibling of 3GPP; it is stored under the one 3gp extension but keeps its MIME.
  ['3g2/video/3gpp2', video('3gp', 'video/3gpp2')],
  ['jpg/image/jpeg', photo('jpg', 'image/jpeg')],
  ['png/image/png', photo('png', 'image/png')],
  ['webp/image/webp', photo('webp', 'image/webp')],
  ['gif/image/gif', photo('gif', 'image/gif')],
  ['heic/image/heic', photo('heic', 'image/heic')],
  ['heic/image/heic-sequence', photo('heic', 'image/heic-sequence')],
  ['heic/image/heif', photo('heif', 'image/heif')],
  ['heic/image/heif-sequence', photo('heif', 'image/heif-sequence')],
]);

const EXTENSIONS: Record<'video' | 'photo', string[]> = {
  video: ['mp4', 'mov', 'webm', 'mkv', '3gp'],
  photo: ['jpg', 'png', 'webp', 'heic', 'heif', 'gif'],
};

/** Every extension a stored media file can have (its key is `media/<user>/<upload>.<ext>`). */
export const STORED_EXTENSIONS: readonly string[] = [...EXTENSIONS.video, ...EXTENSIONS.photo];

/** The allow-listed type of these leading bytes, or undefined when it is not an allowed photo/video type. */
export async function sniffMediaType(head: Buffer): Promise<SniffedType | undefined> {
  const detected = await fileTypeFromBuffer(head.subarray(0, SNIFF_BYTES));
  if (!detected) return undefined;
  const allowed = ALLOWED.get(`${detected.ext}/${detected.mime}`);
  return allowed && { ...allowed };
}

/** Whether a sniffed type is allowed for the category the client declared. */
export function isAllowedForCategory(category: MediaCategory, type: SniffedType): boolean {
  return category === 'camera' || category === type.kind;
}

/** Human list of allowed extensions for a category, for error messages, e.g. "mp4, mov, webm, mkv, 3gp". */
export function allowedExtensions(category: MediaCategory): string {
  const list = category === 'camera' ? [...EXTENSIONS.video, ...EXTENSIONS.photo] : EXTENSIONS[category];
  return list.join(', ');
}
