import type { HealthCheck } from '../check';
import { autovacuumFreezeCheck } from './autovacuum-freeze';
import { backupCopiesCheck } from './backup-copies';
import { backupFreshnessCheck, backupSizeChangeCheck } from './backups';
import { indexBloatCheck, tableBloatCheck } from './bloat';
import { blockedQueriesCheck } from './blocked-queries';
import { cacheHitRatioCheck } from './cache-hit-ratio';
import { checkpointsCheck } from './checkpoints';
import { commitRatioCheck } from './commit-ratio';
import { connectionCheck } from './connection';
import { connectionsCheck } from './connections';
import { databaseSizeCheck } from './database-size';
import { deadTuplesCheck } from './dead-tuples';
import { disabledTriggersCheck } from './disabled-triggers';
import { duplicateIndexesCheck } from './duplicate-indexes';
import { idleInTransactionCheck } from './idle-in-transaction';
import { invalidIndexesCheck } from './invalid-indexes';
import { lastVacuumAnalyzeCheck } from './last-vacuum-analyze';
import { longRunningQueriesCheck } from './long-running-queries';
import { longTransactionsCheck } from './long-transactions';
import { preparedTransactionsCheck } from './prepared-transactions';
import { replicationLagCheck } from './replication-lag';
import { replicationSlotsCheck } from './replication-slots';
import { restoreDrillCheck } from './restore-drill';
import { sequenceExhaustionCheck } from './sequence-exhaustion';
import { serverVersionCheck } from './server-version';
import { settingsCheck } from './settings';
import { slowQueriesCheck } from './slow-queries';
import { tempFilesCheck } from './temp-files';
import { timescaledbChunksCheck } from './timescaledb-chunks';
import { timescaledbJobsCheck } from './timescaledb-jobs';
import { unusedIndexesCheck } from './unused-indexes';
import { walArchivingCheck } from './wal-archiving';
import { walFilesCheck } from './wal-files';
import { xidWraparoundCheck } from './xid-wraparound';

/** Every check, in the order results list them. Names are fixed: results, metrics and config use them. */
export const HEALTH_CHECKS: readonly HealthCheck[] = [
  connectionCheck,
  connectionsCheck,
  longRunningQueriesCheck,
  idleInTransactionCheck,
  longTransactionsCheck,
  blockedQueriesCheck,
  preparedTransactionsCheck,
  databaseSizeCheck,
  cacheHitRatioCheck,
  xidWraparoundCheck,
  autovacuumFreezeCheck,
  deadTuplesCheck,
  lastVacuumAnalyzeCheck,
  tableBloatCheck,
  indexBloatCheck,
  invalidIndexesCheck,
  unusedIndexesCheck,
  duplicateIndexesCheck,
  disabledTriggersCheck,
  sequenceExhaustionCheck,
  replicationSlotsCheck,
  replicationLagCheck,
  walArchivingCheck,
  walFilesCheck,
  checkpointsCheck,
  slowQueriesCheck,
  tempFilesCheck,
  commitRatioCheck,
  backupFreshnessCheck,
  backupSizeChangeCheck,
  backupCopiesCheck,
  restoreDrillCheck,
  timescaledbJobsCheck,
  timescaledbChunksCheck,
  serverVersionCheck,
  settingsCheck,
];
