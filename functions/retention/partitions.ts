import type { Client } from 'pg';
import { errorMessage } from '../shared/errors';
import { inTransaction } from '../shared/in-transaction';
import { fixed, ident, serverLiteral, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { nextPartitionName } from './partition-names';
import { partmanSet } from './partman-config';
import { LOCK_NOT_AVAILABLE, sqlState } from './pg-errors';
import type { PartitionRule } from './rules';

export interface Partition {
  readonly schema: string;
  readonly name: string;
  readonly isDefault: boolean;
  /** Ends at MAXVALUE: the newest by definition. */
  readonly openEnded: boolean;
  readonly lowerBound: string | null;
  readonly upperBound: string | null;
  /** Its upper bound is at or before the cutoff: every row in it is expired. */
  readonly expired: boolean;
  readonly estimatedRows: number;
}

export interface PlannedPartition {
  readonly name: string;
  readonly lowerBound: string;
  readonly upperBound: string;
}

interface PremakeRow {
  lower_bound: string;
  upper_bound: string;
  /** The bounds on the wall clock the grid's names follow, `2026-11-25 00:00:00`. */
  lower_name_clock: string;
  newest_name_clock: string;
}

interface PartitionRow {
  schema: string;
  name: string;
  is_default: boolean;
  open_ended: boolean;
  lower_bound: string | null;
  upper_bound: string | null;
  expired: boolean;
  estimated_rows: number;
}

export async function listPartitions(
  client: Client,
  rule: PartitionRule,
  cutoff: string,
): Promise<Partition[]> {
  const rows = (await client.query<PartitionRow>(loadSql('retention/partitions'), [rule.oid, cutoff])).rows;
  return rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    isDefault: row.is_default,
    openEnded: row.open_ended,
    lowerBound: row.lower_bound,
    upperBound: row.upper_bound,
    expired: row.expired,
    estimatedRows: Number(row.estimated_rows),
  }));
}

/** The partition new rows go to last: open-ended, or the highest upper bound. Never dropped. */
export function newestPartition(partitions: readonly Partition[]): Partition | undefined {
  const ranged = partitions.filter((p) => !p.isDefault);
  return ranged.find((p) => p.openEnded) ?? ranged.filter((p) => p.upperBound !== null).at(-1);
}

/** Expired partitions, oldest first; never the default partition, never the newest. */
export function expiredPartitions(partitions: readonly Partition[]): Partition[] {
  const newest = newestPartition(partitions);
  return partitions.filter((p) => p.expired && !p.isDefault && p !== newest);
}

export interface PremakePlan {
  readonly planned: PlannedPartition[];
  readonly warning?: string;
  /** pg_partman maintains this set: it premakes (its names, its template table, its interval), pgmaint only drops. */
  readonly premakeBy?: 'pg_partman';
}

/**
 * The partitions `premake` asks for: enough that `premake` partitions lie ahead of the one holding
 * now (the database's clock, or `asOf`), on the newest partition's interval. Empty when there is
 * nothing to continue from, and for a set pg_partman maintains: its own premake makes them with its
 * naming, template table and interval.
 */
export async function plannedPartitions(
  client: Client,
  rule: PartitionRule,
  partitions: readonly Partition[],
  asOf?: string,
): Promise<PremakePlan> {
  const partman = await partmanSet(client, rule.oid);
  const name = `${rule.schema}.${rule.table}`;
  if (partman.managed === true) {
    return {
      planned: [],
      premakeBy: 'pg_partman',
      ...(rule.premake > 0 && {
        warning:
          `${name}: "premake" ignored, pg_partman maintains this set (${partman.schema}.part_config: ` +
          `premake ${partman.premake}, interval ${partman.interval}) and premakes it in ${partman.schema}.run_maintenance(); ` +
          'remove "premake" from this rule',
      }),
    };
  }
  if (rule.premake === 0) return { planned: [] };
  if (partman.managed === 'unknown') {
    return {
      planned: [],
      warning:
        `${name}: nothing premade: pg_partman is installed but this role cannot read ${partman.schema}.part_config, ` +
        `so whether pg_partman premakes this set is unknown; grant SELECT on ${partman.schema}.part_config (and USAGE on its schema)`,
    };
  }
  const newest = newestPartition(partitions);
  if (!newest || newest.openEnded || !newest.lowerBound || !newest.upperBound) {
    return {
      planned: [],
      warning: `${name}: no bounded newest partition to continue from, nothing premade`,
    };
  }
  const rows = (
    await client.query<PremakeRow>(loadSql('retention/premake-bounds'), [
      newest.lowerBound,
      newest.upperBound,
      rule.premake,
      asOf ?? null,
    ])
  ).rows;
  return {
    planned: rows.map((row) => ({
      name: nextPartitionName(
        rule.table,
        { name: newest.name, lowerBound: row.newest_name_clock },
        row.lower_name_clock,
      ),
      lowerBound: row.lower_bound,
      upperBound: row.upper_bound,
    })),
  };
}

/**
 * Detaches and drops one expired partition. CONCURRENTLY (PostgreSQL 14+, no default partition)
 * never blocks queries on the parent; otherwise detach and drop share one short transaction under
 * the session's lock_timeout, so a busy parent makes us give up rather than queue everyone behind us.
 */
export async function dropPartition(
  client: Client,
  rule: PartitionRule,
  partition: Partition,
  concurrently: boolean,
): Promise<void> {
  const slots = {
    parent: ident(rule.schema, rule.table),
    partition: ident(partition.schema, partition.name),
  };
  if (concurrently) {
    try {
      await client.query(sqlWithSlots('retention/detach-partition-concurrently', slots));
    } catch (error) {
      // Interrupted after its first transaction, the partition is left "detach pending": finish it.
      if (!(await detachPending(client, partition))) throw error;
      await client.query(sqlWithSlots('retention/finalize-detach', slots));
    }
    await client.query(sqlWithSlots('retention/drop-table', { partition: slots.partition }));
    return;
  }
  await inTransaction(client, async () => {
    await client.query(sqlWithSlots('retention/detach-partition', slots));
    await client.query(sqlWithSlots('retention/drop-table', { partition: slots.partition }));
  });
}

async function detachPending(client: Client, partition: Partition): Promise<boolean> {
  const rows = (
    await client.query<{ pending: boolean }>(loadSql('retention/detach-pending'), [
      partition.schema,
      partition.name,
    ])
  ).rows;
  return rows[0]?.pending === true;
}

/** Creates one premade partition; a failure (a default partition holding rows of that range, a name taken) is returned. */
export async function createPartition(
  client: Client,
  rule: PartitionRule,
  planned: PlannedPartition,
): Promise<{ created: true } | { created: false; lockTimeout: boolean; reason: string }> {
  try {
    await client.query(
      sqlWithSlots('retention/create-partition', {
        partition: ident(rule.schema, planned.name),
        parent: ident(rule.schema, rule.table),
        lower: serverLiteral(planned.lowerBound),
        upper: serverLiteral(planned.upperBound),
      }),
    );
    return { created: true };
  } catch (error) {
    return {
      created: false,
      lockTimeout: sqlState(error) === LOCK_NOT_AVAILABLE,
      reason: errorMessage(error),
    };
  }
}

/** Exact rows in each partition (dry runs only: it reads them all). */
export async function countPartitionRows(client: Client, partition: Partition): Promise<number> {
  const text = sqlWithSlots('retention/count-expired', {
    table: ident(partition.schema, partition.name),
    predicate: fixed('true'),
  });
  return Number((await client.query<{ rows: string }>(text)).rows[0]?.rows ?? 0);
}
