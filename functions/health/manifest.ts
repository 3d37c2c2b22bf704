import type * as z from 'zod';
import { namesSeveralDatabases } from '../shared/config/databases';
import { jobManifest } from '../shared/manifest';
import type { healthOptions } from './definition';

export const healthManifest = jobManifest<z.input<typeof healthOptions>>({
  job: 'health',
  description: 'runs the health checks, alerts when a check changes state',
  // backup/restore: backup_age and drill checks; reindex: index_bloat's size floor and advice.
  sections: ['health', 'backup', 'restore', 'reindex'],
  store: { backups: 'read', state: true },
  schedules: [{ name: 'health', label: 'health', expression: (t) => t.health?.schedule, event: {} }],
  // A target with "databases" names several: health refuses it, so no example.
  consoleExamples: (target, { targets }) =>
    namesSeveralDatabases(targets[target] ?? {}) ? {} : { [`${target}-health-now`]: {} },
  lambda: { memoryMiB: 512, timeoutMinutes: 2, ephemeralStorageMiB: 512, retryAttempts: 2 },
  fargate: { cpu: 256, memoryMiB: 512, ephemeralStorageGiB: 21 },
});
