// Two projects: unit specs beside the code, e2e specs in test/ against the real app and a real database server.
// ESM-only dependencies (file-type) are loaded through Node's require(esm), which Jest supports natively from
// Node 24.9 when node runs with --experimental-vm-modules (the npm test scripts pass it).
const tsJest = [
  'ts-jest',
  {
    // CommonJS with node10 resolution; tsc (build, typecheck) uses tsconfig.json's nodenext. See tsconfig.jest.json.
    tsconfig: 'tsconfig.jest.json',
    astTransformers: { before: ['<rootDir>/test/swagger-plugin.transformer.js'] },
  },
];

module.exports = {
  testTimeout: 60000,
  // Global setup and teardown are TypeScript too, transformed with the root config.
  transform: { '^.+\\.ts$': tsJest },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
  ],
};
