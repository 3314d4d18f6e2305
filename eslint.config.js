// ESLint flat config for the Tessera monorepo (docs/contributing.md "Tooling habits", docs/design.md rules 1-4).
// Type-aware rules run on package/app/bench sources through the TypeScript project service;
// other TypeScript (root vitest config, tests outside src/) gets the syntax-only rules.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import tessera from './tools/eslint-plugin-tessera/index.js';

const TS_FILES = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'];

/** Sources covered by a package tsconfig (`include: ["src"]`), linted with type information. */
const TYPED_FILES = [
  'packages/*/src/**/*.ts',
  'packages/*/src/**/*.tsx',
  'apps/*/src/**/*.ts',
  'apps/*/src/**/*.tsx',
  'bench/src/**/*.ts',
];

const TEST_FILES = [
  '**/*.test.ts',
  '**/*.test.tsx',
  '**/*.spec.ts',
  '**/*.spec.tsx',
  '**/test/**/*.ts',
  '**/tests/**/*.ts',
  '**/__tests__/**/*.ts',
];

/** The only places that may read process.env (apps/server/src/config.ts is the runtime one). */
const ENV_ALLOWED_FILES = [
  'apps/server/src/config.ts',
  ...TEST_FILES,
  'packages/db/src/testing/**',
  'bench/**',
  '**/vitest.config.*',
  '**/vitest.*.ts',
];

/** Import boundaries per zone; a later matching block replaces the whole option list. */
const ZONES = [
  { name: 'all', files: TS_FILES, transport: false, web: false },
  { name: 'auth-db', files: ['packages/auth/**', 'packages/db/**'], transport: true, web: false },
  { name: 'web', files: ['apps/web/**'], transport: false, web: true },
];

function restrictedImports({ transport, web, env }) {
  const patterns = [
    {
      group: ['@tessera/*/src', '@tessera/*/src/**'],
      message:
        'Import a package entry or a declared subpath export (e.g. @tessera/auth/crypto, @tessera/db/testing), never @tessera/*/src internals.',
    },
  ];
  const paths = [];
  if (transport) {
    patterns.push({
      group: ['fastify', 'fastify/**', 'fastify-*', '@fastify/*', '@trpc/*'],
      message:
        'auth and db have no transport: never import fastify or @trpc/* here (docs/design.md "Layout").',
    });
  }
  if (web) {
    patterns.push({
      group: ['@tessera/*', '!@tessera/api-contract', '!@tessera/api-contract/inputs'],
      message:
        'apps/web may only use `import type` from @tessera/api-contract, plus @tessera/api-contract/inputs.',
    });
    paths.push({
      name: '@tessera/api-contract',
      allowTypeImports: true,
      message: 'apps/web may only use `import type` from @tessera/api-contract.',
    });
  }
  if (env) {
    for (const name of ['process', 'node:process']) {
      paths.push({
        name,
        importNames: ['env'],
        message: 'Only apps/server/src/config.ts reads the environment; take values from Config.',
      });
    }
  }
  return ['error', { paths, patterns }];
}

const importBoundaryBlocks = [
  ...ZONES.map((zone) => ({
    name: `tessera/imports/${zone.name}`,
    files: zone.files,
    rules: { 'no-restricted-imports': restrictedImports({ ...zone, env: true }) },
  })),
  ...ZONES.map((zone) => ({
    name: `tessera/imports/${zone.name}/env-allowed`,
    files:
      zone.name === 'all'
        ? ENV_ALLOWED_FILES
        : zone.files.flatMap((zoneGlob) => ENV_ALLOWED_FILES.map((glob) => [zoneGlob, glob])),
    rules: { 'no-restricted-imports': restrictedImports({ ...zone, env: false }) },
  })),
];

/** Minimal Node globals for the plain-JS files we lint (this config and the local plugin). */
const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

export default defineConfig([
  globalIgnores([
    '**/dist/**',
    '**/node_modules/**',
    '**/coverage/**',
    '.turbo/**',
    '.tessera/**',
    'apps/web/dist/**',
    // Generated or third-party-style JS config files; this file itself is linted as plain JS.
    '*.js',
    '*.cjs',
    '*.mjs',
    '**/*.config.js',
    '**/*.config.cjs',
    '**/*.config.mjs',
    '!eslint.config.js',
  ]),

  {
    name: 'tessera/linter-options',
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  {
    name: 'tessera/javascript',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: nodeGlobals },
    rules: { 'no-console': 'error' },
  },

  {
    name: 'tessera/typescript',
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommended],
    plugins: { tessera },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // Exported functions and public methods declare their types (oslo); locals may infer.
      // Typed function expressions (`const plugin: FastifyPluginAsync = async () => ...`) pass.
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Only apps/server/src/config.ts reads process.env; pass values in through Config.',
        },
      ],

      // The Semgrep list (.semgrep.yml), enforced in CI.
      'tessera/no-raw-sql-interpolation': 'error',
      'tessera/no-set-app-setting': 'error',
      'tessera/no-weak-hash': 'error',
      'tessera/no-plain-compare-secret': 'error',
      'tessera/no-gcm-outside-keyring': 'error',
      'tessera/no-trpc-error-in-routers': 'error',
      'tessera/no-log-request-body': 'error',
      'tessera/require-disable-reason': 'error',
    },
  },

  {
    name: 'tessera/typescript/type-checked',
    files: TYPED_FILES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // JSX handlers (`onSubmit={async () => ...}`) may return promises; everything else may not.
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { attributes: false } },
      ],
      // Fastify plugins/hooks and tRPC resolvers are async by contract even without an await.
      '@typescript-eslint/require-await': 'off',
    },
  },

  {
    name: 'tessera/security-randomness',
    files: ['packages/auth/**', 'packages/api/**', 'packages/api-contract/**', 'apps/server/**'],
    ignores: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { 'tessera/no-math-random': 'error' },
  },

  ...importBoundaryBlocks,

  {
    name: 'tessera/process-env-allowed',
    files: ENV_ALLOWED_FILES,
    rules: { 'no-restricted-properties': 'off' },
  },

  {
    name: 'tessera/tests',
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      // `res.json()` / `inject()` bodies are `any`; expect() does the checking.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // expect(obj.method).toHaveBeenCalled() passes unbound methods by design.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
]);
