import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A temp folder per test file, removed after it (see the file).
    setupFiles: ['test/helpers/temp-per-file.ts'],
    // Integration and e2e suites each start DynamoDB Local (a JVM): two at a time fit 2 cores.
    maxWorkers: 2,
    // Tests marked concurrent (the Artillery oracle's pairs of runs) run at most 3 at a time.
    maxConcurrency: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
