'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { ROOT } = require('./servers');

/**
 * The top self-time functions of the `.cpuprofile` files in `dir` (written by `node --cpu-prof` on exit):
 * [{ fn, where, ms, pct }], idle and GC shown as themselves.
 */
function topSelfTime(dir, limit = 12) {
  const totals = new Map();
  let all = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const self = new Map();
    profile.samples.forEach((id, i) => {
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    for (const [id, micros] of self) {
      const { callFrame } = byId.get(id);
      const url = callFrame.url.startsWith('file://')
        ? relative(ROOT, callFrame.url.slice(7))
        : callFrame.url;
      const where = url ? `${url}:${callFrame.lineNumber + 1}` : '';
      const key = `${callFrame.functionName || '(anonymous)'} ${where}`;
      totals.set(key, (totals.get(key) ?? 0) + micros);
      all += micros;
    }
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, micros]) => ({
      fn: key,
      ms: Math.round(micros / 1000),
      pct: Math.round((micros / all) * 1000) / 10,
    }));
}

module.exports = { topSelfTime };
