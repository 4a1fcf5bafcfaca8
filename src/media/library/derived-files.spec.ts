import type { DerivedFile, ProcessingStatus } from '../../processing';
import type { MediaRecord } from '../media-records.service';
import { chooseDerived, derivedUrls } from './derived-files';

const FILE: DerivedFile = {
  key: 'derived/u/up/thumbnail-small.webp',
  mimeType: 'image/webp',
  size: 10,
  etag: '"e"',
};

function record(mimeType: string, status?: ProcessingStatus, derived = {}): MediaRecord {
  return {
    uploadId: 'up',
    status: 'completed',
    mimeType,
    processing: status ? { status, attempts: 1, updatedAt: new Date() } : undefined,
    derived,
  } as MediaRecord;
}

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return {
      status: (error as { getStatus(): number }).getStatus(),
      ...(error as { getResponse(): object }).getResponse(),
    };
  }
  return undefined;
};

describe('chooseDerived', () => {
  it('serves a file that exists, whatever the processing state', () => {
    expect(chooseDerived(record('image/jpeg', 'running', { thumbnailSmall: FILE }), 'thumbnailSmall')).toBe(
      FILE,
    );
  });

  it.each<ProcessingStatus>(['pending', 'running'])(
    'is 409 DERIVED_NOT_READY while processing is %s',
    (status) => {
      expect(errorOf(() => chooseDerived(record('video/mp4', status), 'poster'))).toMatchObject({
        status: 409,
        error: 'DERIVED_NOT_READY',
        processing: status,
      });
      expect(errorOf(() => chooseDerived(record('video/mp4', status), 'rendition'))).toMatchObject({
        status: 409,
      });
    },
  );

  it('is 404 for a file that will never exist: a photo poster at any time, anything after a failure', () => {
    expect(errorOf(() => chooseDerived(record('image/jpeg', 'pending'), 'poster'))).toMatchObject({
      status: 404,
    });
    expect(errorOf(() => chooseDerived(record('video/mp4', 'failed'), 'thumbnailSmall'))).toMatchObject({
      status: 404,
      error: 'NOT_FOUND',
    });
  });

  it('serves the original as the rendition once processing settled without one (or never ran)', () => {
    expect(chooseDerived(record('video/mp4', 'done'), 'rendition')).toBe('original');
    expect(chooseDerived(record('video/mp4', 'failed'), 'rendition')).toBe('original');
    expect(chooseDerived(record('video/mp4'), 'rendition')).toBe('original');
  });
});

describe('derivedUrls', () => {
  it('links only what exists; the rendition once processing settled', () => {
    expect(derivedUrls(record('image/jpeg', 'running', { thumbnailSmall: FILE }))).toEqual({
      thumbnailUrl: '/api/media/up/thumbnail',
      previewUrl: null,
      posterUrl: null,
      renditionUrl: null,
    });
    expect(derivedUrls(record('image/jpeg', 'done'))).toMatchObject({
      renditionUrl: '/api/media/up/rendition',
    });
    expect(derivedUrls({ ...record('image/jpeg'), status: 'uploading' })).toMatchObject({
      renditionUrl: null,
    });
  });
});
