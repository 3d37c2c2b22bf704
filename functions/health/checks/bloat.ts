import { REINDEX_MIN_BLOAT, REINDEX_MIN_SIZE } from '../../shared/config/defaults';
import type { TargetConfig } from '../../shared/config/schema';
import { ident } from '../../shared/pg/sql-names';
import { loadSql } from '../../shared/sql';
import { formatBytes, parsePercent, parseSizeBytes } from '../../shared/units';
import type { HealthCheck, Measurement, Query } from '../check';
import { round } from './numbers';

type MissingStatistics = 'hidden' | 'never analyzed' | 'columns without statistics' | 'expression';

interface Row {
  schema: string;
  table: string;
  index?: string;
  bytes: number;
  bloatBytes: number;
  bloatPercent: number;
  notEstimated: number;
  considered: number;
  estimable: boolean;
  missingStatistics: MissingStatistics | null;
}

const WHY: Record<MissingStatistics, string> = {
  hidden: 'statistics hidden from this role',
  'never analyzed': 'never analyzed',
  'columns without statistics': 'some columns without statistics',
  expression: 'an expression index',
};

async function measureBloat(
  query: Query,
  what: 'table' | 'index',
  minSizeBytes: number,
  recommendation: string,
): Promise<Measurement> {
  const rows = await query<Row>(loadSql(`health/${what}_bloat`), [minSizeBytes]);
  const estimated = rows.filter((r) => r.estimable);
  const missing = rows.filter((r) => !r.estimable);
  const first = rows[0];
  const notEstimated = first?.notEstimated ?? 0;
  const nameOf = (r: Row) =>
    what === 'table' ? `${r.schema}.${r.table}` : `${r.schema}.${r.index} on ${r.table}`;
  const details = {
    minSizeBytes,
    considered: first?.considered ?? 0,
    notEstimated,
    top: estimated.map(
      ({ notEstimated: _n, considered: _c, estimable: _e, missingStatistics: _m, ...row }) => ({
        ...row,
        bloatPercent: round(row.bloatPercent),
      }),
    ),
    // Named, never just left out: a table nobody analyzed is as likely bloated as any other.
    withoutStatistics: missing.map((r) => ({
      schema: r.schema,
      table: r.table,
      ...(r.index === undefined ? {} : { index: r.index }),
      bytes: r.bytes,
      why: WHY[r.missingStatistics ?? 'never analyzed'],
    })),
  };
  const named = missing
    .slice(0, 3)
    .map((r) => `${nameOf(r)} (${formatBytes(r.bytes)}, ${WHY[r.missingStatistics ?? 'never analyzed']})`)
    .join(', ');
  const more = notEstimated > 3 ? ` and ${notEstimated - 3} more` : '';
  const unreadable =
    notEstimated > 0
      ? `; bloat unknown for ${notEstimated} ${what === 'table' ? 'table(s)' : 'index(es)'} without statistics: ${named}${more}`
      : '';
  const onlyHidden = missing.every((r) => r.missingStatistics === 'hidden');
  const fix = onlyHidden
    ? 'grant SELECT on them (or pg_read_all_data) so pg_stats shows their statistics'
    : 'ANALYZE them (autovacuum analyzes a table once enough of it changed: check it is on for them)';
  const worst = estimated[0];
  if (!worst) {
    if (notEstimated === 0)
      return {
        value: 0,
        message: `no ${what} of ${formatBytes(minSizeBytes)} or more`,
        details,
        recommendation: '',
      };
    const message = `no ${what} of ${formatBytes(minSizeBytes)} or more could be estimated${unreadable}; ${fix}`;
    // A role that may not read statistics is the monitoring setup's matter; statistics that do not
    // exist are the database's, and leave its bloat unknown.
    if (onlyHidden) return { skipped: message, details };
    return {
      value: null,
      message,
      details,
      atLeast: 'unknown',
      recommendation: `Run ANALYZE on the tables listed (it reads a sample and does not block writes); until then their bloat cannot be estimated. ${recommendation}`,
    };
  }
  return {
    value: round(worst.bloatPercent),
    message: `${nameOf(worst)}: about ${round(worst.bloatPercent)}% bloat (${formatBytes(worst.bloatBytes)} of ${formatBytes(worst.bytes)})${unreadable}${notEstimated > 0 ? `; ${fix}` : ''}`,
    details,
    recommendation,
  };
}

/** `table_bloat`: estimated wasted space in tables above a size floor. */
export const tableBloatCheck: HealthCheck = {
  name: 'table_bloat',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '30%', critical: '50%', minSize: '10 MB' },
  run: ({ query, thresholds }) =>
    measureBloat(
      query,
      'table',
      thresholds.minSizeBytes ?? 0,
      'Space freed by deletes and updates is not being reused. VACUUM keeps it from growing; to give it back, rebuild the table online with pg_repack (VACUUM FULL locks it). Check autovacuum keeps up on it.',
    ),
};

/**
 * `index_bloat`: estimated wasted space in btree indexes above a size floor; the reindex job's
 * candidates. The floor is the reindex job's `minSize` unless health sets its own, so a problem
 * health reports is one the reindex job will clear; when it will not, the recommendation says
 * what to run instead.
 */
export const indexBloatCheck: HealthCheck = {
  name: 'index_bloat',
  unit: 'percent',
  kind: 'percent',
  defaults: { warning: '30%', critical: '50%', minSize: REINDEX_MIN_SIZE },
  floor: (target) => target?.reindex?.minSize,
  run: async ({ query, thresholds, target, targetName }) => {
    const minSizeBytes = thresholds.minSizeBytes ?? 0;
    const measured = await measureBloat(query, 'index', minSizeBytes, '');
    if ('skipped' in measured || measured.value === 0) return measured;
    const worst = (measured.details?.top as Row[] | undefined)?.[0];
    return worst ? { ...measured, recommendation: reindexAdvice(worst, target, targetName) } : measured;
  },
};

/** Whether the reindex job will rebuild this index, and the command to run now (or when it will not). */
export function reindexAdvice(
  index: Pick<Row, 'schema' | 'index' | 'bytes' | 'bloatPercent'>,
  target: Pick<TargetConfig, 'reindex'>,
  targetName: string,
): string {
  const reindex = target.reindex;
  const minSize = reindex?.minSize ?? REINDEX_MIN_SIZE;
  const minBloat = reindex?.minBloat ?? REINDEX_MIN_BLOAT;
  const statement = `REINDEX INDEX CONCURRENTLY ${ident(index.schema, index.index ?? '')}`;
  const command = `\`pgmaint reindex --target ${targetName}\``;
  const path = `targets.${targetName}.reindex`;
  if (index.bytes < (parseSizeBytes(minSize) ?? 0))
    return `${index.schema}.${index.index} (${formatBytes(index.bytes)}) is below the reindex job's floor (${path}.minSize, ${minSize}), so no job rebuilds it: run ${statement}, or lower ${path}.minSize.`;
  if (reindex?.mode !== 'database' && index.bloatPercent < (parsePercent(minBloat) ?? 0))
    return `${index.schema}.${index.index} is under the reindex job's minBloat (${path}.minBloat, ${minBloat}), so no job rebuilds it: run ${statement}, or lower ${path}.minBloat.`;
  if (!reindex?.schedule)
    return `No reindex schedule is set for this target: run ${command} (it rebuilds the worst indexes with REINDEX INDEX CONCURRENTLY), or set ${path}.schedule.`;
  return `The reindex job (${reindex.schedule}) rebuilds it at its next run, worst first; to do it now, run ${command}.`;
}
