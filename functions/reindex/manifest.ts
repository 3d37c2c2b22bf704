import type * as z from 'zod';
import { namesSeveralDatabases } from '../shared/config/databases';
import { jobManifest } from '../shared/manifest';
import type { reindexOptions } from './definition';

export const reindexManifest = jobManifest<z.input<typeof reindexOptions>>({
  job: 'reindex',
  description: 'rebuilds bloated indexes with REINDEX CONCURRENTLY',
  sections: ['reindex'],
  store: { backups: 'none', state: false },
  schedules: [{ name: 'reindex', label: 'reindex', expression: (t) => t.reindex?.schedule, event: {} }],
  // A target with "databases" names several: reindex refuses it, so no example.
  consoleExamples: (target, { targets }) =>
    namesSeveralDatabases(targets[target] ?? {}) ? {} : { [`${target}-reindex-dry-run`]: { dryRun: true } },
  lambda: { memoryMiB: 512, timeoutMinutes: 15, ephemeralStorageMiB: 512, retryAttempts: 2 },
  // The database does the work; the task only waits on it.
  fargate: { cpu: 256, memoryMiB: 512, ephemeralStorageGiB: 21 },
});
