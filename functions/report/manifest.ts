import type * as z from 'zod';
import { jobManifest } from '../shared/manifest';
import type { reportOptions } from './report-options';

type ReportInput = z.input<typeof reportOptions>;

export const reportManifest = jobManifest<ReportInput>({
  job: 'report',
  description:
    'the report of each target from the store (backups, retention, lock, copies, drills, health), published to the alert topic',
  // backup: retention rules, lock and copies asked for; restore: the drills' RTO.
  sections: ['backup', 'restore', 'health', 'report'],
  store: { backups: 'read', state: 'read' },
  connects: false,
  schedules: [
    {
      name: 'report',
      label: 'report to the alert topic',
      expression: (t) => t.report?.schedule,
      event: { publish: true },
    },
  ],
  consoleExamples: (target) => ({
    [`${target}-report`]: {},
    [`${target}-report-publish`]: { publish: true },
  }),
  // Reads a few hundred small objects: no disk, little memory; publishing twice would repeat the
  // e-mail, so a failed run is not tried again (the job's alarm tells).
  lambda: { memoryMiB: 512, timeoutMinutes: 5, ephemeralStorageMiB: 512, retryAttempts: 0 },
  fargate: { cpu: 256, memoryMiB: 512, ephemeralStorageGiB: 21 },
});
