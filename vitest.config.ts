import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One test file at a time: the e2e tests boot QEMU under TCG on a 2-core machine, and a starved
    // host makes QEMU's emulated UART drop console characters (docs/run.md). Unit tests are quick.
    fileParallelism: false,
  },
});
