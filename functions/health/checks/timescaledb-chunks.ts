import { loadSql } from '../../shared/sql';
import { formatBytes } from '../../shared/units';
import type { HealthCheck } from '../check';

interface Row {
  schema: string;
  hypertable: string;
  chunks: number;
  bytes: number;
  compressAfter: string | null;
  uncompressedPastPolicy: number | null;
}

/**
 * `timescaledb_chunks`: chunk count and size per hypertable, and the chunks a compression policy
 * should have compressed by now (a policy job that silently stopped keeps them full size).
 * Compression is TimescaleDB's TSL-licensed part: an Apache-licensed build has none, and says so.
 */
export const timescaledbChunksCheck: HealthCheck = {
  name: 'timescaledb_chunks',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 1, critical: null },
  async run({ query }) {
    const [extension] = await query<{ schema: string }>(loadSql('health/extension'), ['timescaledb']);
    if (!extension) return { skipped: 'TimescaleDB is not installed in this database' };
    const [setting] = await query<{ license: string | null }>(
      "select current_setting('timescaledb.license', true) as license",
    );
    const license = setting?.license ?? null;
    const rows = await query<Row>(loadSql('health/timescaledb_chunks'));
    const hypertables = rows.map((r) => ({ ...r, chunks: Number(r.chunks), bytes: Number(r.bytes) }));
    const withPolicy = hypertables.filter((r) => r.uncompressedPastPolicy !== null);
    const late = withPolicy.reduce((sum, r) => sum + Number(r.uncompressedPastPolicy), 0);
    const sizes = hypertables
      .slice(0, 3)
      .map((r) => `${r.schema}.${r.hypertable} ${r.chunks} chunk(s), ${formatBytes(r.bytes)}`)
      .join('; ');
    const summary =
      hypertables.length === 0 ? 'no hypertable' : `${hypertables.length} hypertable(s): ${sizes}`;
    const compression =
      license === 'apache'
        ? 'compression not checked: this is the Apache-licensed TimescaleDB build, which has no compression'
        : withPolicy.length === 0
          ? 'no compression policy'
          : late === 0
            ? 'every chunk past its compression policy is compressed'
            : `${late} uncompressed chunk(s) past the compression policy's age`;
    return {
      value: withPolicy.length === 0 ? null : late,
      message: `${summary}; ${compression}`,
      details: { license, hypertables },
      recommendation:
        'The compression policy is not keeping up: check its job in timescaledb_information.job_stats (the timescaledb_jobs check), then compress the late chunks with compress_chunk.',
    };
  },
};
