import type { Client } from 'pg';
import { inTransaction } from '../shared/in-transaction';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { LOCK_NOT_AVAILABLE, sqlState } from './pg-errors';
import { rowPredicate, type TimeBounds } from './predicate';
import type { RowRule } from './rules';

/**
 * Held rows a rule looks for one by one (each costs a few lock waits). Past that, an application holds
 * many rows at once: a part of a batch that still meets one is left whole for the next run.
 */
export const MAX_HELD_PER_RULE = 32;

export interface AroundHeld {
  readonly deleted: number;
  /**
   * Rows left because another session held them (or, past MAX_HELD_PER_RULE, shared a part of the batch
   * with a held row), `<tableoid>:<ctid>`: later batches of the run skip them, the next run gets them.
   */
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
  heldSoFar: number,
): Promise<AroundHeld> {
  const table = ident(rule.schema, rule.table);
  await inTransaction(client, () => client.query(`lock table ${table} in row exclusive mode`), {
    lockTimeoutMs: lockWaitMs,
  });
  const listed = rowPredicate(rule, slice, 2);
  const ids = (
    await client.query<{ relation: string; ctid: string }>(
      sqlWithSlots('retention/batch-row-ids', { table, predicate: listed.sql }),
      [limit, ...listed.values],
    )
  ).rows;
  const recheck = rowPredicate(rule, slice, 3);
  const text = sqlWithSlots('retention/delete-rows-by-ctid', { table, predicate: recheck.sql });
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
      if (ctids.length === 1 || heldSoFar + held.length >= MAX_HELD_PER_RULE) {
        held.push(...ctids.map((ctid) => `${relation}:${ctid}`));
        return 0;
      }
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
