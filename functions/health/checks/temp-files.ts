import { loadSql } from '../../shared/sql';
import { formatBytes, formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { countersSince } from './counters';

interface Row {
  tempFiles: number;
  tempBytes: number;
  since: Date;
}

/**
 * `temp_files`: bytes this database's queries spilled to temporary files since the previous run
 * (the first run: since the statistics reset): sorts and hashes that did not fit in work_mem,
 * written and read back on disk. Not extrapolated to a rate: a first run a minute after a restart
 * would turn a few megabytes into gigabytes an hour.
 */
export const tempFilesCheck: HealthCheck = {
  name: 'temp_files',
  unit: 'bytes',
  kind: 'size',
  defaults: { warning: '1 GB', critical: '10 GB' },
  async run({ query, now, memory }) {
    const [row] = await query<Row>(loadSql('health/database_counters'));
    if (!row) throw new Error('pg_stat_database has no row for this database');
    const counted = countersSince(memory, { files: row.tempFiles, bytes: row.tempBytes }, now(), row.since);
    return {
      value: counted.delta.bytes,
      message: `${formatBytes(counted.delta.bytes)} written to temporary files (${counted.delta.files} file(s)) over ${formatDuration(counted.seconds * 1000)} since ${counted.from}`,
      details: {
        files: counted.delta.files,
        bytes: counted.delta.bytes,
        seconds: Math.round(counted.seconds),
      },
      memory: counted.memory,
      recommendation:
        'Queries sort or hash more than work_mem on disk: find them (log_temp_files = 0 logs each temp file with its query; pg_stat_statements.temp_blks_written), add the index that avoids the sort, or raise work_mem for the role or query that needs it.',
    };
  },
};
