'use strict';
/**
 * The pattern most tutorials show: Express + multer memoryStorage, then the buffer written to disk. It holds the
 * whole file in memory, which is what this peer is here to show.
 * Usage: node multer-memory-server.js <port> <dir>
 */
const express = require('express');
const multer = require('multer');
const { writeFile } = require('node:fs/promises');
const { join } = require('node:path');

const [port, dir] = process.argv.slice(2);
const upload = multer({ storage: multer.memoryStorage() });
const app = express();
let counter = 0;
app.post('/upload', upload.single('file'), (req, res, next) => {
  const path = join(dir, `upload-${process.pid}-${++counter}`);
  writeFile(path, req.file.buffer).then(() => res.status(201).json({ path, size: req.file.size }), next);
});
app.get('/', (_req, res) => res.send('ok'));
app.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
