'use strict';
/**
 * The limit: a minimal Node http server that pipes each request body straight to a file and answers 201. No
 * parsing, hashing, auth or database: what a single-request upload costs at the least on this machine.
 * Usage: node raw-pipe-server.js <port> <dir>
 */
const http = require('node:http');
const { createWriteStream } = require('node:fs');
const { pipeline } = require('node:stream/promises');
const { join } = require('node:path');

const [port, dir] = process.argv.slice(2);
let counter = 0;
http
  .createServer((req, res) => {
    if (req.method !== 'POST') return res.writeHead(200).end('ok');
    const path = join(dir, `upload-${process.pid}-${++counter}`);
    pipeline(req, createWriteStream(path)).then(
      () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ path })),
      (error) => res.writeHead(500).end(String(error)),
    );
  })
  .listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
