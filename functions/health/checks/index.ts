import type { HealthCheck } from '../check';
import { backupFreshnessCheck, backupSizeChangeCheck } from './backups';
import { indexBloatCheck, tableBloatCheck } from './bloat';
import { blockedQueriesCheck } from './blocked-queries';
import { cacheHitRatioCheck } from './cache-hit-ratio';
import { connectionCheck } from './connection';
import { connectionsCheck } from './connections';
import { databaseSizeCheck } from './database-size';
import { deadTuplesCheck } from './dead-tuples';
import { duplicateIndexesCheck } from './duplicate-indexes';
import { idleInTransactionCheck } from './idle-in-transaction';
import { invalidIndexesCheck } from './invalid-indexes';
import { longRunningQueriesCheck } from './long-running-queries';
import { longTransactionsCheck } from './long-transactions';
import { preparedTransactionsCheck } from './prepared-transactions';
import { replicationLagCheck } from './replication-lag';
import { replicationSlotsCheck } from './replication-slots';
import { restoreDrillCheck } from './restore-drill';
import { sequenceExhaustionCheck } from './sequence-exhaustion';
import { slowQueriesCheck } from './slow-queries';
import { timescaledbJobsCheck } from './timescaledb-jobs';
import { unusedIndexesCheck } from './unused-indexes';
import { walArchivingCheck } from './wal-archiving';
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
  deadTuplesCheck,
  tableBloatCheck,
  indexBloatCheck,
  invalidIndexesCheck,
  unusedIndexesCheck,
  duplicateIndexesCheck,
  sequenceExhaustionCheck,
  replicationSlotsCheck,
  replicationLagCheck,
  walArchivingCheck,
  slowQueriesCheck,
  backupFreshnessCheck,
  backupSizeChangeCheck,
  restoreDrillCheck,
  timescaledbJobsCheck,
];
