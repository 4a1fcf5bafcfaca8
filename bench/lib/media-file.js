'use strict';
const { createReadStream, createWriteStream, existsSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { mediaBytes } = require('./client');
const { BENCH_CACHE } = require('./servers');

/** A generated mp4-like file of `size` bytes in the bench cache (written once, then read from the page cache). */
async function mediaFile(size) {
  const path = join(BENCH_CACHE, `generated-v2-${size}.mp4`);
  if (existsSync(path) && statSync(path).size === size) return path;
  await pipeline(Readable.from(mediaBytes(size)), createWriteStream(`${path}.partial`));
  require('node:fs').renameSync(`${path}.partial`, path);
  return path;
}

module.exports = { mediaFile, createReadStream };
