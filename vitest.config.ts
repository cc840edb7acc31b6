import { defineConfig } from 'vitest/config';

// The AWS SDK prints a nine-line NodeVersionSupportWarning on Node 20 from
// the test processes' own S3 clients (the harness's, the s3 plugin's unit
// tests). The CLI under test silences it itself (packages/cli/bin/run.js)
// and gets a clean environment (test/harness/cli.ts), so this changes only
// the test processes' output.
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          env,
          include: ['packages/*/test/**/*.test.ts', 'examples/plugin-*/test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          env,
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
