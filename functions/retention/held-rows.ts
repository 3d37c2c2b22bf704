import type { Client } from 'pg';
import { inTransaction } from '../shared/in-transaction';
import { LOCK_NOT_AVAILABLE, sqlState } from './pg-errors';
import { rowPredicate, type TimeBounds } from './predicate';
import type { RowRule } from './rules';
import { ident, retentionSql } from './sql-template';

/** Past this many held rows in one batch, something holds far more than a few rows: the batch gives up. */
const MAX_HELD_PER_BATCH = 32;

export interface AroundHeld {
  readonly deleted: number;
  /** Rows held by another session, `<tableoid>:<ctid>`: left alone for this run, the next run gets them. */
  readonly held: readonly string[];
}

/**
 * Redoes a batch that met a row an application holds: the batch's rows (read without locking) are
 * deleted by ctid in halves, each half its own short transaction that waits at most `lockWaitMs`, until
 * the halves that still time out are single rows: those are the held ones, skipped. No FOR UPDATE, so
 * no UPDATE privilege; each attempt holds its row locks only for itself. A table lock (an ALTER, a
 * CREATE INDEX) is not a held row: that error goes to the caller, which backs off.
 */
export async function deleteAroundHeld(
  client: Client,
  rule: RowRule,
  slice: TimeBounds,
  limit: number | null,
  lockWaitMs: number,
): Promise<AroundHeld> {
  const table = ident(rule.schema, rule.table);
  await inTransaction(client, () => client.query(`lock table ${table} in row exclusive mode`), {
    lockTimeoutMs: lockWaitMs,
  });
  const listed = rowPredicate(rule, slice, 2);
  const ids = (
    await client.query<{ relation: string; ctid: string }>(
      retentionSql('batch-row-ids', { table, predicate: listed.sql }),
      [limit, ...listed.values],
    )
  ).rows;
  const recheck = rowPredicate(rule, slice, 3);
  const text = retentionSql('delete-rows-by-ctid', { table, predicate: recheck.sql });
  const held: string[] = [];

  const attempt = async (relation: string, ctids: readonly string[]): Promise<number> => {
    try {
      return await inTransaction(
        client,
        async () => (await client.query(text, [relation, ctids, ...recheck.values])).rowCount ?? 0,
        { lockTimeoutMs: lockWaitMs },
      );
    } catch (error) {
      if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw error;
      if (ctids.length === 1) {
        held.push(`${relation}:${ctids[0]}`);
        return 0;
      }
      if (held.length >= MAX_HELD_PER_BATCH) throw error;
      const middle = Math.ceil(ctids.length / 2);
      return (
        (await attempt(relation, ctids.slice(0, middle))) + (await attempt(relation, ctids.slice(middle)))
      );
    }
  };

  let deleted = 0;
  for (const [relation, ctids] of groupByRelation(ids)) deleted += await attempt(relation, ctids);
  return { deleted, held };
}

function groupByRelation(ids: readonly { relation: string; ctid: string }[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { relation, ctid } of ids) {
    const group = groups.get(relation) ?? [];
    group.push(ctid);
    groups.set(relation, group);
  }
  return groups;
}
