import { ApiError } from '../../common/errors/api-error';
import {
  indicatedLength,
  isPartialUpload,
  readUploadFields,
  reprDigestSha256,
  speaksInterop8,
} from './ietf-headers';

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return ((error as ApiError).getResponse() as { error: string }).error;
  }
};

describe('IETF draft header fields', () => {
  it('reads sf-boolean and sf-integer fields and ignores invalid values, as the draft says', () => {
    expect(
      readUploadFields({ 'upload-complete': '?1', 'upload-offset': '12', 'upload-length': '0' }),
    ).toEqual({
      complete: true,
      offset: 12,
      length: 0,
      contentLength: undefined,
    });
    for (const value of ['1', 'true', '?2', '"?1"', '']) {
      expect(readUploadFields({ 'upload-complete': value }).complete).toBeUndefined();
    }
    for (const value of ['-1', '1.5', 'abc', '99999999999999999']) {
      expect(readUploadFields({ 'upload-offset': value }).offset).toBeUndefined();
    }
    expect(readUploadFields({ 'upload-complete': '?0;x=1' }).complete).toBe(false);
    expect(readUploadFields({ 'content-length': '42' }).contentLength).toBe(42);
  });

  it('speaks interop version 8; absent is accepted without 104s; anything else is a 400', () => {
    expect(speaksInterop8({ 'upload-draft-interop-version': '8' })).toBe(true);
    expect(speaksInterop8({})).toBe(false);
    for (const version of ['5', '6', '7', 'eight']) {
      expect(codeOf(() => speaksInterop8({ 'upload-draft-interop-version': version }))).toBe(
        'UNSUPPORTED_INTEROP_VERSION',
      );
    }
  });

  it('derives the length from Upload-Length or Upload-Complete + Content-Length, and refuses disagreement', () => {
    expect(indicatedLength({ complete: true, contentLength: 10 }, 5, null)).toBe(15);
    expect(indicatedLength({ complete: false, contentLength: 10 }, 5, null)).toBeUndefined();
    expect(indicatedLength({ length: 20, contentLength: 10 }, 5, 20)).toBe(20);
    expect(indicatedLength({}, 5, 20)).toBe(20);
    const inconsistent = 'INCONSISTENT_UPLOAD_LENGTH';
    expect(codeOf(() => indicatedLength({ complete: true, length: 10, contentLength: 20 }, 0, null))).toBe(
      inconsistent,
    );
    expect(codeOf(() => indicatedLength({ length: 21 }, 0, 20))).toBe(inconsistent);
    expect(codeOf(() => indicatedLength({ contentLength: 30 }, 0, 20))).toBe(inconsistent);
    expect(codeOf(() => indicatedLength({ length: 4 }, 5, null))).toBe(inconsistent);
  });

  it('reads the SHA-256 of Repr-Digest and ignores other algorithms or malformed values', () => {
    const digest = Buffer.alloc(32, 7);
    expect(reprDigestSha256({ 'repr-digest': `sha-256=:${digest.toString('base64')}:` })).toBe(
      digest.toString('hex'),
    );
    expect(reprDigestSha256({ 'repr-digest': `sha-512=:${digest.toString('base64')}:` })).toBeUndefined();
    expect(reprDigestSha256({ 'repr-digest': 'sha-256=:AAAA:' })).toBeUndefined();
    expect(reprDigestSha256({ 'repr-digest': 'sha-256=nonsense' })).toBeUndefined();
  });

  it('accepts only application/partial-upload for an append', () => {
    expect(isPartialUpload({ 'content-type': 'application/partial-upload' })).toBe(true);
    expect(isPartialUpload({ 'content-type': 'Application/Partial-Upload; x=1' })).toBe(true);
    expect(isPartialUpload({ 'content-type': 'application/offset+octet-stream' })).toBe(false);
    expect(isPartialUpload({})).toBe(false);
  });
});
