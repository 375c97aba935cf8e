import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One temporary directory per run, removed at its end (test/helpers/temp-root.ts).
    globalSetup: ['test/helpers/temp-root.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start real servers and processes; two cores, so two at a time.
    maxWorkers: 2,
    // The AWS SDK's notice that its 2027 releases need Node 22 (the SDK is pinned; see the
    // README) would otherwise repeat once per test process that loads it, children included.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
