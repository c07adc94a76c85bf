import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // QEMU e2e tests are CPU-heavy: the machine has 2 cores.
    maxWorkers: 2,
  },
});
