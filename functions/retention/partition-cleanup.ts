import { serverVersionNum } from '../shared/db';
import { sleep, stepFits } from './pacing';
import {
  createPartition,
  dropPartition,
  expiredPartitions,
  listPartitions,
  plannedPartitions,
} from './partitions';
import { LOCK_NOT_AVAILABLE, sqlState } from './pg-errors';
import type { RuleWork, StopReason } from './result';
import { type PartitionRule, qualifiedName } from './rules';
import type { RunState } from './run-state';

/**
 * A partition rule: drop the expired partitions oldest first (never the default, never the newest),
 * then premake. Stops early on the time budget or a parent that stays locked.
 */
export async function cleanUpPartitions(
  run: RunState,
  rule: PartitionRule,
  cutoff: string,
  outOfTime: boolean,
): Promise<RuleWork> {
  const { client, context, pacing } = run;
  const partitions = await listPartitions(client, rule, cutoff);
  // CONCURRENTLY needs 14+ and is refused when the parent has a default partition.
  const concurrently = (await serverVersionNum(client)) >= 140_000 && !partitions.some((p) => p.isDefault);
  const dropped: string[] = [];
  const created: string[] = [];
  let premakeBy: 'pg_partman' | undefined;
  let stoppedBecause: StopReason = outOfTime ? 'timeBudget' : 'done';
  let slowestMs = 0;
  for (const partition of outOfTime ? [] : expiredPartitions(partitions)) {
    if (!stepFits(context.remainingMs(), slowestMs, pacing)) {
      stoppedBecause = 'timeBudget';
      break;
    }
    const started = performance.now();
    const attempt = await withLockRetries(run, () => dropPartition(client, rule, partition, concurrently));
    if (attempt === 'lockTimeout') {
      stoppedBecause = 'lockTimeout';
      break;
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    dropped.push(partition.name);
    context.logger.debug(`retention ${qualifiedName(rule)}: dropped partition ${partition.name}`);
  }
  if (stoppedBecause === 'done') {
    const plan = await plannedPartitions(client, rule, partitions);
    if (plan.warning) run.warnings.push(plan.warning);
    premakeBy = plan.premakeBy;
    const { planned } = plan;
    for (const next of planned) {
      let result = await createPartition(client, rule, next);
      for (
        let attempt = 1;
        !result.created && result.lockTimeout && attempt < run.pacing.lockAttempts;
        attempt++
      ) {
        await sleep(pacing.lockRetryMs);
        result = await createPartition(client, rule, next);
      }
      if (!result.created) {
        run.warnings.push(
          `${qualifiedName(rule)}: could not create partition ${next.name}: ${result.reason}`,
        );
        break;
      }
      created.push(next.name);
    }
  }
  return {
    rowsDeleted: 0,
    partitionsDropped: dropped,
    partitionsCreated: created,
    batches: 0,
    stoppedBecause,
    ...(premakeBy && { premakeBy }),
  };
}

export async function withLockRetries(
  run: RunState,
  work: () => Promise<void>,
): Promise<'done' | 'lockTimeout'> {
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return 'done';
    } catch (error) {
      if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw error;
      run.context.logger.warn(`retention: lock timeout (${attempt}/${run.pacing.lockAttempts})`);
      if (attempt >= run.pacing.lockAttempts) return 'lockTimeout';
      await sleep(run.pacing.lockRetryMs);
    }
  }
}
