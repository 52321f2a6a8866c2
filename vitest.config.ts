import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, no cluster) and `cluster` (live kind cluster).
// Cluster suites are never silently skipped: global setup brings the cluster up or fails, and
// scripts/test.mjs fails the run when any cluster test did not execute.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['suites/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['suites/global-setup.ts'],
          // Suites share one cluster; each file works in namespaces of its own.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
