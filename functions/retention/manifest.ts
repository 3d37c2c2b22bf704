import type * as z from 'zod';
import { namesSeveralDatabases } from '../shared/config/databases';
import { jobManifest } from '../shared/manifest';
import type { retentionOptions } from './definition';

export const retentionManifest = jobManifest<z.input<typeof retentionOptions>>({
  job: 'retention',
  description: 'deletes rows past their retention in small lock-safe batches; drops old partitions',
  sections: ['retention'],
  store: { backups: 'none', state: false },
  schedules: [{ name: 'retention', label: 'retention', expression: (t) => t.retention?.schedule, event: {} }],
  // A target with "databases" names several: retention refuses it, so no example.
  consoleExamples: (target, { targets }) =>
    namesSeveralDatabases(targets[target] ?? {}) ? {} : { [`${target}-retention-dry-run`]: { dryRun: true } },
  lambda: { memoryMiB: 512, timeoutMinutes: 15, ephemeralStorageMiB: 512, retryAttempts: 2 },
  // The database does the work; the task only waits on it.
  fargate: { cpu: 256, memoryMiB: 512, ephemeralStorageGiB: 21 },
});
