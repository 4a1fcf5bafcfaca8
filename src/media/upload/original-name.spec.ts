import { MAX_ORIGINAL_NAME_LENGTH, sanitizeOriginalName } from './original-name';

describe('sanitizeOriginalName', () => {
  it.each([
    ['Declaração.mp4', 'Declaração.mp4'],
    ['Declarac\u0327a\u0303o.mp4', 'Declaração.mp4'], // decomposed input comes out NFC
    ['evil\u202Egnp.exe', 'evilgnp.exe'],
    ['a\u0000b\u0007c\u001bd\u007fe\u0085f.jpg', 'abcdef.jpg'],
    ['zero\u200Bwidth\uFEFF.png', 'zerowidth.png'],
    ['C:\\Users\\me\\clip.mov', 'clip.mov'],
    ['../../etc/passwd', 'passwd'],
    ['  spaced.mp4  ', 'spaced.mp4'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeOriginalName(input)).toBe(expected);
  });

  it.each([undefined, '', '\u202E\u0000', '   '])('gives undefined for %j', (input) => {
    expect(sanitizeOriginalName(input)).toBeUndefined();
  });

  it('caps the length on a code point, never inside a surrogate pair', () => {
    const name = sanitizeOriginalName('😀'.repeat(300))!;
    expect(Array.from(name)).toHaveLength(MAX_ORIGINAL_NAME_LENGTH);
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name); // a lone surrogate would not round-trip
  });
});
