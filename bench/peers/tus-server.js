'use strict';
/**
 * Standalone @tus/server (the library our /api/tus is built on) with its FileStore: no auth, no database, no
 * content checks. Shows what our tus layer adds on top of the bare library.
 * Usage: node tus-server.js <port> <dir>
 */
const http = require('node:http');
const { Server } = require('@tus/server');
const { FileStore } = require('@tus/file-store');

const [port, dir] = process.argv.slice(2);
const tus = new Server({ path: '/files', datastore: new FileStore({ directory: dir }) });
http
  .createServer((req, res) => {
    if (req.url === '/') return res.writeHead(200).end('ok');
    return tus.handle(req, res);
  })
  .listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
