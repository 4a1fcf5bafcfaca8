#!/usr/bin/env node
// Prints the one summary line CI reads, computed from Jest's own JSON results (`jest --json --outputFile=F`):
// `Tests: N passed, N failed` plus `, N skipped` when any test was skipped or left todo. Exits 1 when a test failed,
// a suite failed to run, or the file holds no results, so a broken run can never print a green line.
'use strict';
const fs = require('node:fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: test-summary.js <jest-results.json>');
  process.exit(2);
}

let results;
try {
  results = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`test-summary: no readable Jest results in ${file}: ${error.message}`);
  console.log('Tests: 0 passed, 1 failed');
  process.exit(1);
}

const passed = results.numPassedTests ?? 0;
// A suite that cannot even load (syntax error, failing beforeAll import) runs no test: count it as a failure.
const failed = (results.numFailedTests ?? 0) + (results.numRuntimeErrorTestSuites ?? 0);
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);

console.log(`Tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || results.success === false || passed === 0 ? 1 : 0);
