'use strict';
/* global performance */
/**
 * The bare baseline of the processing scenario: the same work as the service's processing of a photo or a video,
 * done directly in one Node process with the same tools and settings, one file after another. A photo: two WebP
 * thumbnails (250 and 1440 px on the longest side, upright). A video: a poster frame with ffmpeg, then the two
 * thumbnails from it. Prints `{ "seconds": … }` for all the files.
 *
 *   node bench/peers/bare-processing.js photo|video <file>...
 */
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const sharp = require('sharp');

sharp.concurrency(1);

async function thumbnails(input) {
  for (const size of [250, 1440]) {
    await sharp(input)
      .rotate()
      .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  }
}

async function main() {
  const [kind, ...files] = process.argv.slice(2);
  const scratch = mkdtempSync(join(tmpdir(), 'bare-processing-'));
  const started = performance.now();
  try {
    for (const [i, file] of files.entries()) {
      if (kind === 'photo') {
        await thumbnails(file);
        continue;
      }
      const poster = join(scratch, `poster-${i}.jpg`);
      execFileSync('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-ss',
        '1',
        '-i',
        file,
        '-frames:v',
        '1',
        '-q:v',
        '3',
        poster,
      ]);
      await thumbnails(poster);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000 }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
