import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/plugin-*/test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One PostgreSQL cluster and one S3 server for the whole run; each
          // test file makes its own databases and bucket on them.
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // e2e files share the cluster and the two cores; run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
