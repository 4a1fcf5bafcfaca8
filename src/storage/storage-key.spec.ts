import { UnsafePathError } from './safe-path';
import { keySegments, mediaKey, storageKey } from './storage-key';

describe('storage keys', () => {
  it('accepts the keys of the four areas', () => {
    expect(keySegments('tmp/6650f1a2c3d4e5f6a7b8c9d0.abc_123-x.part')).toEqual([
      'tmp',
      '6650f1a2c3d4e5f6a7b8c9d0.abc_123-x.part',
    ]);
    expect(storageKey('chunks', 'u1', 'up-1', 'data')).toBe('chunks/u1/up-1/data');
    expect(storageKey('tus', 'a1b2c3')).toBe('tus/a1b2c3');
    expect(mediaKey('u1', 'up-1', 'mp4')).toBe('media/u1/up-1.mp4');
    expect(keySegments('tmp')).toEqual(['tmp']);
  });

  it.each([
    ['empty', ''],
    ['absolute', '/etc/passwd'],
    ['absolute inside an area', '/media/u1/x.mp4'],
    ['outside the areas', 'etc/passwd'],
    ['traversal', 'media/../../etc/passwd'],
    ['traversal at the end', 'media/u1/..'],
    ['a bare dot', 'media/./x'],
    ['an empty segment', 'media//x'],
    ['a trailing slash', 'media/u1/'],
    ['a NUL byte', 'media/u1/x\0.mp4'],
    ['a backslash', 'media/u1\\..\\..\\x'],
    ['a Windows traversal', 'tmp/..\\..\\x'],
    ['an encoded traversal', 'media/%2e%2e/x'],
    ['a hidden name', 'tus/.config'],
    ['a double dot inside a name', 'tus/a..b'],
  ])('refuses %s', (_label, key) => {
    expect(() => keySegments(key)).toThrow(UnsafePathError);
  });

  it('refuses to build a key from an unsafe segment', () => {
    expect(() => storageKey('chunks', 'u1', '../u2')).toThrow(UnsafePathError);
    expect(() => mediaKey('u1', 'x/../../y', 'mp4')).toThrow(UnsafePathError);
    expect(() => storageKey('tus', '')).toThrow(UnsafePathError);
  });
});
