import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeriveTools, type DeriveToolSettings } from './derive-tools';

const settings = (jobTimeoutMs: number): DeriveToolSettings => ({
  ffmpegPath: 'ffmpeg',
  heifConvertPath: 'heif-convert',
  jobTimeoutMs,
  maxImagePixels: 1_000_000,
});

/** ffmpeg reading a 100 s test pattern at its real pace (-re): runs until it is stopped. */
const SLOW_FFMPEG = ['-re', '-f', 'lavfi', '-i', 'testsrc=rate=5:duration=100', '-f', 'null', '-'];

describe('DeriveTools', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'derive-tools-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stops a tool at the end of the job time, then refuses to start another', async () => {
    const tools = new DeriveTools(settings(800), new AbortController().signal);
    const started = Date.now();
    await expect(tools.ffmpeg('poster frame', SLOW_FFMPEG)).rejects.toThrow(
      /^poster frame: ffmpeg did not finish within \d+ ms/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(tools.ffmpeg('rendition', SLOW_FFMPEG)).rejects.toThrow(
      /^rendition: the job ran out of time/,
    );
  });

  it("stops a tool when the job's signal aborts", async () => {
    const controller = new AbortController();
    const tools = new DeriveTools(settings(60_000), controller.signal);
    const running = tools.ffmpeg('poster frame', SLOW_FFMPEG);
    setTimeout(() => controller.abort(), 200);
    await expect(running).rejects.toThrow(/^poster frame: ffmpeg aborted/);
  });

  it('the image worker refuses a file that is not an image, with its reason, in its own process', async () => {
    const input = join(dir, 'not-an-image.png');
    await writeFile(input, 'definitely not a PNG');
    const tools = new DeriveTools(settings(60_000), new AbortController().signal);
    const job = {
      input,
      autoOrient: true,
      outputs: [{ path: join(dir, 'out.webp'), format: 'webp' as const, quality: 80 }],
    };
    await expect(tools.images('thumbnails', job)).rejects.toThrow(
      /^thumbnails: node failed \(exit 1\): .*unsupported image format/,
    );
  });
});
