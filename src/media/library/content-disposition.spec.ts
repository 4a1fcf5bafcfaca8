import { contentDisposition } from './content-disposition';

describe('contentDisposition', () => {
  it.each([
    ['clip.mp4', `inline; filename="clip.mp4"; filename*=UTF-8''clip.mp4`],
    ['Declaração.mp4', `inline; filename="Declaracao.mp4"; filename*=UTF-8''Declara%C3%A7%C3%A3o.mp4`],
    ['视频.mp4', `inline; filename="__.mp4"; filename*=UTF-8''%E8%A7%86%E9%A2%91.mp4`],
    [
      'a "quoted" \\ name.jpg',
      `inline; filename="a _quoted_ _ name.jpg"; filename*=UTF-8''a%20%22quoted%22%20%5C%20name.jpg`,
    ],
    ["it's (1)*.png", `inline; filename="it's (1)*.png"; filename*=UTF-8''it%27s%20%281%29%2A.png`],
    ['100%.gif', `inline; filename="100_.gif"; filename*=UTF-8''100%25.gif`],
  ])('%j', (name, header) => {
    expect(contentDisposition('inline', name)).toBe(header);
  });
});
