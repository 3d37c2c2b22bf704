import type * as z from 'zod';
import { jobManifest } from '../shared/manifest';
import type { restoreOptions } from './restore-options';

type RestoreInput = z.input<typeof restoreOptions>;

export const restoreManifest = jobManifest<RestoreInput>({
  job: 'restore',
  description: 'restores a verified backup into a new database (or swaps it in); scheduled restore drills',
  // backup: where the target's backups are and how they are named.
  sections: ['backup', 'restore'],
  store: { backups: 'read', state: true },
  schedules: [
    {
      name: 'restore-drill',
      label: 'restore drill',
      expression: (t) => t.restore?.drill?.schedule,
      event: { drill: true },
    },
  ],
  consoleExamples: (target, { others, targets }) => {
    // A target with "databases" needs one named: its first listed (none is known for "*").
    const database = (name: string): { database?: string } | undefined => {
      const databases = targets[name]?.databases;
      if (databases === undefined) return {};
      return Array.isArray(databases) && databases[0] !== undefined ? { database: databases[0] } : undefined;
    };
    const own = database(target);
    if (!own) return {};
    const examples: Record<string, RestoreInput> = {
      [`${target}-restore-latest-into-new-database`]: { backup: 'latest', ...own },
      [`${target}-restore-drill`]: { drill: true, ...own },
    };
    // Refresh this target from each other one that backs up (prod → staging is the everyday case),
    // into a new database: the operator adds replace + confirm deliberately, never by picking.
    for (const from of others.filter((name) => targets[name]?.backup)) {
      const fromDatabase = database(from);
      if (fromDatabase)
        examples[`refresh-${target}-from-${from}`] = { from, backup: 'latest', ...own, ...fromDatabase };
    }
    return examples;
  },
  lambda: { memoryMiB: 2048, timeoutMinutes: 15, ephemeralStorageMiB: 10_240, retryAttempts: 0 },
  // A replace-restore swaps databases: running it again unasked is never safe (retryAttempts 0).
  // Archives that fit on disk are downloaded to restore with parallel jobs: give it room.
  fargate: { cpu: 2048, memoryMiB: 4096, ephemeralStorageGiB: 100 },
});
