/** The container ffmpeg must read a sniffed type as: never left to its guessing (no playlist or concat demuxer). */
const DEMUXERS: Record<string, string> = {
  'video/mp4': 'mov',
  'video/quicktime': 'mov',
  'video/3gpp': 'mov',
  'video/3gpp2': 'mov',
  'video/webm': 'matroska',
  'video/x-matroska': 'matroska',
};

/** Where the poster frame is taken: 10% into the video, at most 1 s (past a black first frame), 0 when unknown. */
export function posterSeekSeconds(duration: number | null | undefined): number {
  return duration && duration > 0 ? Math.min(1, duration / 10) : 0;
}

/** ffmpeg's input options: the demuxer of the sniffed type, and only the protocols the input's address needs. */
export function inputArgs(input: string, mimeType: string, seekSeconds?: number): string[] {
  const remote = /^https?:\/\//.test(input);
  const demuxer = DEMUXERS[mimeType];
  return [
    '-protocol_whitelist',
    remote ? 'https,http,tls,tcp' : 'file',
    ...(demuxer ? ['-f', demuxer] : []),
    ...(seekSeconds ? ['-ss', seekSeconds.toFixed(3)] : []),
    '-i',
    input,
  ];
}

/** One upright JPEG frame (ffmpeg applies the rotation in the stream's display matrix). */
export function posterArgs(input: string, mimeType: string, seekSeconds: number, output: string): string[] {
  return [
    ...inputArgs(input, mimeType, seekSeconds),
    ...['-map', '0:v:0', '-frames:v', '1', '-q:v', '2', '-pix_fmt', 'yuvj420p', '-f', 'image2', '-y', output],
  ];
}

/** Every stream copied as it is into `muxer`; `faststart` moves the MP4/MOV index before the media. */
export function remuxArgs(
  input: string,
  mimeType: string,
  muxer: string,
  faststart: boolean,
  output: string,
): string[] {
  return [
    ...inputArgs(input, mimeType),
    ...[
      '-map',
      '0',
      '-c',
      'copy',
      ...(faststart ? ['-movflags', '+faststart'] : []),
      '-f',
      muxer,
      '-y',
      output,
    ],
  ];
}
