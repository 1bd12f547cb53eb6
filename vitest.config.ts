import { defineConfig } from 'vitest/config';

// Pure units run fast and in parallel; real-process tests get fewer workers and longer timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          testTimeout: 10_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 2,
          // Projects with different worker counts must run as separate groups: units first.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
