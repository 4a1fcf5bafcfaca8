// @ts-check
import eslint from '@eslint/js';
import prettierRecommended from 'eslint-plugin-prettier/recommended';
import tseslint from 'typescript-eslint';

/** Top-level folders of src/ that are modules or shared subsystems (each exposes an index.ts). */
const MODULES = [
  'auth', 'bootstrap', 'chunk', 'cluster', 'coordination', 'database', 'demo', 'embedded', 'health', 'logging',
  'media', 'processing', 'progress', 'quota', 'rate-limit', 'storage', 'sweeper', 'upload-core', 'upload-limits',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.cache/', 'data/', 'uploads/', 'eslint.config.mjs', 'test-artifacts/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettierRecommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'test/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // Upload bytes go through the StorageDriver (src/storage/), addressed by keys: no other code opens files. The
  // typescript-eslint variant of the rule is used so the core `no-restricted-imports` stays free for module
  // boundaries (flat config replaces, not merges, a rule's options).
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/storage/**', // the drivers themselves
      'src/database/**', // the embedded FerretDB: its binary, data folder and source patches
      'src/embedded/**', // child-process helpers of the embedded servers
      'src/coordination/**', // the embedded redis-server launcher
      'src/bootstrap/**', // build-time scripts (OpenAPI generation, engine checks)
      'src/logging/**', // log sinks (none open files today)
      'src/health/**', // UPLOAD_DIR write probe and free-space check (statfs); to move behind the driver with S3
      'src/demo/**', // serves the static demo page folder when it exists
      '**/*.spec.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'node:fs', 'fs/promises', 'node:fs/promises'].map((name) => ({
            name,
            message: 'Files are storage: use the StorageDriver (src/storage) with a storage key.',
          })),
        },
      ],
    },
  },
  // Module boundaries: a module (or shared subsystem) is used through its folder's index.ts, never a file inside it.
  // A relative import that stays inside a module never names that module's folder, so the pattern only matches
  // imports that leave the importing folder. src/common and src/config are libraries: deep imports stay allowed.
  {
    files: ['src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.contract.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\./|(\\.\\./)+)(${MODULES.join('|')})/(?!index$)`,
              message: "Import the module's folder (its index.ts), not a file inside it: see docs/architecture.md.",
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
