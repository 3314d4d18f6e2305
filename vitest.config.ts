import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'tools/**/*.test.js',
      'tests/browser/**/*.browser.test.ts',
      'tests/first-run/**/*.test.ts',
    ],
    globalSetup: ['./packages/db/dist/testing/global-setup.js'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
