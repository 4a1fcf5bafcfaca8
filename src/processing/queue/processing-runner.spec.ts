import { clientError } from './processing-runner';

describe('clientError', () => {
  it('keeps the first line and names no URL or folder', () => {
    const error = new Error(
      'poster frame: ffmpeg failed (exit 1): https://s3.internal/bucket/media/u/x.mp4?X-Amz-Signature=abc: Server returned 403\nmore',
    );
    expect(clientError(error)).toBe('poster frame: ffmpeg failed (exit 1): <input>: Server returned 403');
    expect(clientError(new Error('thumbnails: /tmp/media-derive-Ab12/poster.jpg: bad header'))).toBe(
      'thumbnails: poster.jpg: bad header',
    );
  });

  it('bounds the length', () => {
    const message = clientError(new Error('x'.repeat(1000)));
    expect(message).toHaveLength(300);
    expect(message.endsWith('…')).toBe(true);
  });
});
