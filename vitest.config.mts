import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/helpers/worker-clock.ts', 'test/helpers/temp-cleanup.ts'],
          // Cheap checks first: unit, then infra, then integration.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          setupFiles: ['test/helpers/temp-cleanup.ts'],
          sequence: { groupOrder: 1 },
          // Synthesizing a CDK app takes a few seconds per file.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          globalSetup: ['test/helpers/global-setup.ts'],
          setupFiles: [
            'test/helpers/worker-clock.ts',
            'test/helpers/integration-env.ts',
            'test/helpers/temp-cleanup.ts',
          ],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Two cores: two files at a time against one server keeps runs steady.
          maxWorkers: 2,
        },
      },
    ],
  },
});
