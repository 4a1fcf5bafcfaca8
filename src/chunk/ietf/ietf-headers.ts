import type { IncomingHttpHeaders } from 'node:http';
import { parseDictionary, parseItem } from 'structured-headers';
import { inconsistentLength, unsupportedInteropVersion } from './ietf-problems';

/** The draft's interop version this server speaks (draft-ietf-httpbis-resumable-upload -12…-15). */
export const INTEROP_VERSION = 8;
/** The media type of an append's content. */
export const PARTIAL_UPLOAD = 'application/partial-upload';

/** What a creation or append request says about the upload, read from its structured header fields. */
export interface UploadRequestFields {
  /** `Upload-Complete`; undefined when absent or not an sf-boolean (the draft: invalid values are ignored). */
  complete?: boolean;
  /** `Upload-Offset` (appends only). */
  offset?: number;
  /** `Upload-Length`. */
  length?: number;
  /** `Content-Length`, when the body has one. */
  contentLength?: number;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The bare value of an Item field of the wanted type, or undefined when it is absent or invalid. */
function item<T>(value: string | string[] | undefined, accept: (bare: unknown) => bare is T): T | undefined {
  const raw = single(value);
  if (raw === undefined) return undefined;
  try {
    // Typed loosely on purpose: the package's dual ESM/CJS typings do not resolve the same everywhere.
    const [bare] = parseItem(raw) as [unknown, unknown];
    return accept(bare) ? bare : undefined;
  } catch {
    return undefined;
  }
}

const isBoolean = (bare: unknown): bare is boolean => typeof bare === 'boolean';
const isOffset = (bare: unknown): bare is number => Number.isSafeInteger(bare) && (bare as number) >= 0;

export function readUploadFields(headers: IncomingHttpHeaders): UploadRequestFields {
  const contentLength = headers['content-length'];
  return {
    complete: item(headers['upload-complete'], isBoolean),
    offset: item(headers['upload-offset'], isOffset),
    length: item(headers['upload-length'], isOffset),
    contentLength: /^\d+$/.test(contentLength ?? '') ? Number(contentLength) : undefined,
  };
}

/**
 * Whether the request speaks interop version 8 (the 104 is sent only then): absent is accepted without 104s, any
 * other value (tus-js-client's ietf-draft-03/-05 modes send 5 and 6) is refused with 400.
 */
export function speaksInterop8(headers: IncomingHttpHeaders): boolean {
  const raw = single(headers['upload-draft-interop-version']);
  if (raw === undefined) return false;
  if (item(raw, isOffset) === INTEROP_VERSION) return true;
  throw unsupportedInteropVersion(raw);
}

/**
 * The length the request indicates (`Upload-Length`, or offset + Content-Length with `Upload-Complete: ?1`),
 * checked against the one recorded before: 400 inconsistent-upload-length when any two disagree.
 */
export function indicatedLength(
  fields: UploadRequestFields,
  offset: number,
  recorded: number | null | undefined,
): number | undefined {
  const byContent =
    fields.complete === true && fields.contentLength !== undefined
      ? offset + fields.contentLength
      : undefined;
  const known = [fields.length, byContent, recorded ?? undefined].filter((value) => value !== undefined);
  if (known.some((value) => value !== known[0])) throw inconsistentLength();
  const length = known[0];
  // A length below what is stored already cannot be right.
  if (length !== undefined && length < offset) throw inconsistentLength();
  // Content beyond the length, or a completing request that would end short of it.
  if (length !== undefined && fields.contentLength !== undefined && offset + fields.contentLength > length) {
    throw inconsistentLength();
  }
  return length;
}

/**
 * The SHA-256 a `Repr-Digest` field names (hex), or undefined when it names none (other algorithms are ignored,
 * as is an invalid field).
 */
export function reprDigestSha256(headers: IncomingHttpHeaders): string | undefined {
  const raw = single(headers['repr-digest']);
  if (raw === undefined) return undefined;
  try {
    const member = (parseDictionary(raw) as Map<string, unknown>).get('sha-256');
    const bare: unknown = Array.isArray(member) ? member[0] : undefined;
    if (!(bare instanceof ArrayBuffer) || bare.byteLength !== 32) return undefined;
    return Buffer.from(bare).toString('hex');
  } catch {
    return undefined;
  }
}

/** Whether the request's Content-Type is the draft's `application/partial-upload` (parameters allowed). */
export function isPartialUpload(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type']?.split(';', 1)[0].trim().toLowerCase();
  return type === PARTIAL_UPLOAD;
}
