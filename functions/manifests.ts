import { backupManifest } from './backup/manifest';
import { healthManifest } from './health/manifest';
import { reindexManifest } from './reindex/manifest';
import { reportManifest } from './report/manifest';
import { restoreManifest } from './restore/manifest';
import { retentionManifest } from './retention/manifest';
import type { JobName } from './shared/config/schema';
import type { JobManifest } from './shared/manifest';

/**
 * Every job's declaration, by name: adding a job is one manifest here. Dependency-free, so lib/
 * (CDK) and the CLI's `validate` can read them without loading any job's code.
 */
export const JOB_MANIFESTS: Readonly<Record<JobName, JobManifest>> = {
  // The order `pgmaint validate` lists a target's schedules in.
  backup: backupManifest,
  retention: retentionManifest,
  reindex: reindexManifest,
  health: healthManifest,
  restore: restoreManifest,
  report: reportManifest,
};
