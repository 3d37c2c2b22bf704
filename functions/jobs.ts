import { backupJob } from './backup/definition';
import { backupsCommand } from './backup/list-definition';
import { healthJob } from './health/definition';
import { reindexJob } from './reindex/definition';
import { reportCommand } from './report/definition';
import { restoreJob } from './restore/definition';
import { retentionJob } from './retention/definition';
import type { AnyJobDefinition } from './shared/job';

/** Every command the CLI offers, in the order `pgmaint --help` lists them. Each job adds itself here. */
export const JOB_DEFINITIONS: readonly AnyJobDefinition[] = [
  backupJob,
  backupsCommand,
  restoreJob,
  retentionJob,
  reindexJob,
  healthJob,
  reportCommand,
];
