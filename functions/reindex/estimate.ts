import { reindexSection } from '../shared/config/sections';
import type { JobContext, RunEstimate } from '../shared/job';
import { loadSql } from '../shared/sql';
import { formatBytes, formatDuration, parsePercent, parseSizeBytes } from '../shared/units';
import { bloatFromExpectedSize } from './bloat';
import type { ReindexOptions } from './definition';
import { ASSUMED_BYTES_PER_SECOND, expectedDurationMs, RESERVE_MS } from './guards';

interface SizeRow {
  size_bytes: string;
  table_bytes: string;
  expected_bytes: string | null;
}

/**
 * The rebuilds this run would start, from the catalog alone (no pgstatindex, no ANALYZE): the
 * `maxPerRun` largest indexes over minSize whose statistical bloat reaches minBloat, counting those
 * without statistics too (the run may measure them bloated), each at the rebuild's assumed rate.
 * "database" mode rebuilds every index.
 */
export async function estimateReindex(context: JobContext, options: ReindexOptions): Promise<RunEstimate> {
  if (options.dryRun) return { basis: 'a dry run rebuilds nothing' };
  const config = context.target.reindex ?? reindexSection.parse({});
  const database = config.mode === 'database';
  const minSize = database ? 0 : (parseSizeBytes(config.minSize) ?? 0);
  const minBloat = parsePercent(config.minBloat) ?? 0;
  const client = await context.connect();
  let rows: SizeRow[];
  try {
    rows = (await client.query<SizeRow>(loadSql('reindex/candidates'), [minSize])).rows;
  } finally {
    await client.end().catch(() => {});
  }
  const indexes = rows
    .map((r) => ({
      sizeBytes: Number(r.size_bytes),
      tableBytes: Number(r.table_bytes),
      bloat: bloatFromExpectedSize(
        Number(r.size_bytes),
        r.expected_bytes === null ? null : Number(r.expected_bytes),
      ),
    }))
    .filter((i) => database || i.bloat === null || i.bloat >= minBloat)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, database ? undefined : config.maxPerRun);
  const work = indexes.reduce((ms, index) => ms + expectedDurationMs(index, ASSUMED_BYTES_PER_SECOND), 0);
  const bytes = indexes.reduce((sum, index) => sum + index.sizeBytes, 0);
  return {
    // Nothing to rebuild: the run only looks, which fits anywhere.
    durationMs: indexes.length === 0 ? 0 : work + RESERVE_MS,
    basis:
      `${indexes.length} index(es) of ${formatBytes(bytes)} to rebuild (tables read twice) at ` +
      `${ASSUMED_BYTES_PER_SECOND / 1024 ** 2} MB/s + ${formatDuration(RESERVE_MS)}`,
  };
}
