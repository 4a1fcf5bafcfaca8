// The soak suite (`npm run test:soak`): long runs that `npm test` leaves out — 1 000 aborted uploads, a slow
// 500 MB upload that outlasts Node's default 300 s request timeout, and a slow-loris client.
const base = require('./jest.config.js');

module.exports = {
  testTimeout: 900000,
  transform: base.transform,
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/soak/**/*.soak-spec.ts'],
};
