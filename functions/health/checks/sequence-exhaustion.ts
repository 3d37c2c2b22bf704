import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';
import { round } from './numbers';

interface Row {
  schema: string;
  sequence: string;
  table: string | null;
  column: string | null;
  columnType: string | null;
  readable: boolean;
  lastValue: number | null;
  limit: number;
  usedPercent: number;
}

/** `sequence_exhaustion`: sequences, and the integer columns they feed, running out of numbers. */
export const sequenceExhaustionCheck: HealthCheck = {
  name: 'sequence_exhaustion',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '75%', critical: '90%' },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/sequence_exhaustion'));
    const readable = rows.filter((r) => r.readable);
    const unreadable = rows.filter((r) => !r.readable).map((r) => `${r.schema}.${r.sequence}`);
    const details = {
      sequences: rows.length,
      unreadable: unreadable.slice(0, 20),
      unreadableCount: unreadable.length,
      top: readable
        .slice(0, 5)
        .map(({ readable: _, ...row }) => ({ ...row, usedPercent: round(row.usedPercent, 2) })),
    };
    const note =
      unreadable.length > 0
        ? `; ${unreadable.length} sequence(s) not readable by this role (grant SELECT on them, or pg_read_all_data)`
        : '';
    if (rows.length === 0) return { value: 0, message: 'no sequence', details, recommendation: '' };
    const worst = readable[0];
    if (!worst) return { skipped: `cannot read any of the ${rows.length} sequence(s)${note}`, details };
    const feeds = worst.column ? ` feeding ${worst.table}.${worst.column} (${worst.columnType})` : '';
    return {
      value: round(worst.usedPercent, 2),
      message: `${worst.schema}.${worst.sequence}${feeds} has used ${round(worst.usedPercent, 2)}% of its range (${(worst.lastValue ?? 0).toLocaleString('en-US')} of ${worst.limit.toLocaleString('en-US')})${note}`,
      details,
      recommendation:
        'Plan the move to bigint before it runs out (inserts fail the moment it does): ALTER the column and the sequence AS bigint, online for big tables by adding a bigint column, backfilling in batches and swapping.',
    };
  },
};
