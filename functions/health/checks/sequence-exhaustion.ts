import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';
import { round } from './numbers';
import { exhaustedAt, type SequenceRange, usedPercent } from './sequence-range';

interface Row extends SequenceRange {
  schema: string;
  sequence: string;
  table: string | null;
  column: string | null;
  readable: boolean;
}

const number = (n: number) => n.toLocaleString('en-US');

/** `sequence_exhaustion`: sequences, and the integer columns they feed, running out of numbers. */
export const sequenceExhaustionCheck: HealthCheck = {
  name: 'sequence_exhaustion',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '75%', critical: '90%' },
  async run({ query }) {
    const rows = await query<Row>(loadSql('health/sequence_exhaustion'));
    const readable = rows
      .filter((r) => r.readable)
      .map((r) => ({ ...r, usedPercent: usedPercent(r), limit: exhaustedAt(r) }))
      .sort(
        (a, b) =>
          b.usedPercent - a.usedPercent ||
          `${a.schema}.${a.sequence}`.localeCompare(`${b.schema}.${b.sequence}`),
      );
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
    const direction = worst.increment > 0 ? 'up to' : 'down to';
    return {
      value: round(worst.usedPercent, 2),
      message: `${worst.schema}.${worst.sequence}${feeds} has used ${round(worst.usedPercent, 2)}% of its range (${worst.lastValue === null ? 'not used yet' : `at ${number(worst.lastValue)}`}, counting ${direction} ${number(worst.limit)})${note}`,
      details,
      recommendation:
        'Plan the move to bigint before it runs out (inserts fail the moment it does): ALTER the column and the sequence AS bigint, online for big tables by adding a bigint column, backfilling in batches and swapping.',
    };
  },
};
