import type * as z from 'zod';
import { jobManifest } from '../shared/manifest';
import type { backupOptions } from './definition';

export const backupManifest = jobManifest<z.input<typeof backupOptions>>({
  job: 'backup',
  description: 'pg_dump streamed to S3, verified, with a manifest; prunes old backups',
  sections: ['backup'],
  store: { backups: 'write', state: false },
  schedules: [{ name: 'backup', label: 'backup', expression: (t) => t.backup?.schedule, event: {} }],
  consoleExamples: (target) => ({ [`${target}-backup-now`]: {} }),
  lambda: {
    // CPU, not memory (the job stays under 256 MB). pg_dump's compressor keeps one core busy, and
    // the pg_restore verifier, hashing and upload need about a third of another (measured on the
    // bench: ~38 s of pg_dump CPU, ~6 s of pg_restore, ~6 s of Node per 1.7 GB database); below
    // ~1.4 vCPU they take time from pg_dump. Lambda gives ~1.7 vCPU at 3,008 MB (1 vCPU per
    // 1,769 MB), a size every account allows (some new accounts are capped there).
    memoryMiB: 3008,
    timeoutMinutes: 15,
    ephemeralStorageMiB: 512,
    retryAttempts: 2,
  },
  // Two vCPUs for the same reason as on Lambda; the dump streams, so the free 21 GiB disk suffices.
  fargate: { cpu: 2048, memoryMiB: 4096, ephemeralStorageGiB: 21 },
});
