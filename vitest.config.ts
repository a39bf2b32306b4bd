import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'node_modules/**'],
          testTimeout: 60_000,
          // A few unit suites compile real kernel objects; on a fresh machine their setup first builds the
          // cached test kernel (about 3 minutes).
          hookTimeout: 20 * 60_000,
          // Separate processes: the cache locks are per process and not reentrant.
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // e2e tests build kernels and boot VMs: one file at a time, generous limits.
          fileParallelism: false,
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
        },
      },
    ],
  },
});
