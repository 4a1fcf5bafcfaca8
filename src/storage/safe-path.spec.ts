import { isSafeSegment, safeJoin, UnsafePathError } from './safe-path';

describe('safeJoin', () => {
  const root = '/srv/uploads';

  it('joins server-generated segments under the root', () => {
    expect(safeJoin(root, 'media', '6650f1a2c3d4e5f6a7b8c9d0', 'abc_123-x.mp4')).toBe(
      '/srv/uploads/media/6650f1a2c3d4e5f6a7b8c9d0/abc_123-x.mp4',
    );
  });

  it.each([
    '..',
    '../x',
    '..\\x',
    '/etc/passwd',
    'a/b',
    'a\\b',
    '.',
    '.hidden',
    '%2e%2e%2f',
    'x\0y',
    'a..b',
    '',
    ' x',
  ])('refuses the segment %p', (segment) => {
    expect(isSafeSegment(segment)).toBe(false);
    expect(() => safeJoin(root, 'chunks', segment)).toThrow(UnsafePathError);
  });

  it('refuses a path that is the root itself', () => {
    expect(() => safeJoin(root)).toThrow(UnsafePathError);
  });
});
