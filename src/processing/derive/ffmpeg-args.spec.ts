import { inputArgs, posterSeekSeconds, remuxArgs } from './ffmpeg-args';

describe('posterSeekSeconds', () => {
  it('seeks 10% in, at most 1 s, and 0 when the duration is unknown', () => {
    expect(posterSeekSeconds(2)).toBeCloseTo(0.2);
    expect(posterSeekSeconds(600)).toBe(1);
    expect(posterSeekSeconds(null)).toBe(0);
    expect(posterSeekSeconds(undefined)).toBe(0);
    expect(posterSeekSeconds(0)).toBe(0);
  });
});

describe('inputArgs', () => {
  it('names the demuxer of the sniffed type and allows only files for a local path', () => {
    expect(inputArgs('/data/media/u/a.mp4', 'video/mp4', 0.5)).toEqual([
      ...['-protocol_whitelist', 'file', '-f', 'mov', '-ss', '0.500', '-i', '/data/media/u/a.mp4'],
    ]);
  });

  it('allows only HTTP(S) for a presigned URL, and leaves an unknown type to ffmpeg', () => {
    expect(inputArgs('https://s3.example/b/k?sig', 'video/unknown')).toEqual([
      ...['-protocol_whitelist', 'https,http,tls,tcp', '-i', 'https://s3.example/b/k?sig'],
    ]);
  });
});

describe('remuxArgs', () => {
  it('copies every stream, with faststart only when asked', () => {
    expect(remuxArgs('/a.mov', 'video/quicktime', 'mov', true, '/w/r.mov').slice(6)).toEqual([
      ...['-map', '0', '-c', 'copy', '-movflags', '+faststart', '-f', 'mov', '-y', '/w/r.mov'],
    ]);
    expect(remuxArgs('/a.webm', 'video/webm', 'webm', false, '/w/r.webm')).not.toContain('-movflags');
  });
});
