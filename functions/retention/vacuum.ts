import { resetSessionLimits, setSessionLimits } from '../shared/pg/session-limits';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import { LOCK_NOT_AVAILABLE, QUERY_CANCELED, sqlState } from './pg-errors';
import type { RuleOutcome } from './result';
import { qualifiedName, type ResolvedRule } from './rules';
import type { RunState } from './run-state';

/** VACUUM only starts with at least this much time left before the reserve. */
const VACUUM_MIN_MS = 60_000;

/** VACUUM (ANALYZE) each table that lost more than `vacuumAbove` of its rows, if time allows. */
export async function vacuumShrunkTables(
  run: RunState,
  rules: readonly ResolvedRule[],
  outcomes: readonly RuleOutcome[],
  vacuumAbove: number,
): Promise<string[]> {
  const deleted = new Map<string, { rule: ResolvedRule; rows: number }>();
  for (const [index, rule] of rules.entries()) {
    const entry = deleted.get(rule.oid) ?? { rule, rows: 0 };
    entry.rows += outcomes[index]?.rowsDeleted ?? 0;
    deleted.set(rule.oid, entry);
  }
  const vacuumed: string[] = [];
  for (const { rule, rows } of deleted.values()) {
    if (rows === 0 || rows / Math.max(rule.estimatedRows, rows) <= vacuumAbove) continue;
    const name = qualifiedName(rule);
    const allowed = (
      await run.client.query<{ allowed: boolean }>(loadSql('retention/can-vacuum'), [rule.oid])
    ).rows[0]?.allowed;
    if (!allowed) {
      run.warnings.push(
        `${name}: VACUUM skipped, this role does not own the table (PostgreSQL 17+: GRANT MAINTAIN); autovacuum will get to it`,
      );
      continue;
    }
    const leftMs = run.context.remainingMs() - run.pacing.reserveMs;
    if (leftMs < VACUUM_MIN_MS) {
      run.warnings.push(`${name}: VACUUM skipped, not enough time left (autovacuum will get to it)`);
      continue;
    }
    try {
      // Until the deadline on Lambda; as long as it takes on the CLI.
      await setSessionLimits(run.client, { statementTimeoutMs: Number.isFinite(leftMs) ? leftMs : 0 });
      await run.client.query(sqlWithSlots('retention/vacuum', { table: ident(rule.schema, rule.table) }));
      vacuumed.push(name);
    } catch (error) {
      const state = sqlState(error);
      if (state !== QUERY_CANCELED && state !== LOCK_NOT_AVAILABLE) throw error;
      run.warnings.push(`${name}: VACUUM stopped (${(error as Error).message}); autovacuum will get to it`);
    } finally {
      await resetSessionLimits(run.client, ['statementTimeoutMs']);
    }
  }
  return vacuumed;
}
