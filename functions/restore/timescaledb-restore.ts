import type { Client } from 'pg';
import { errorMessage, JobError } from '../shared/errors';
import type { JobContext } from '../shared/job';
import { loadSql } from '../shared/sql';
import type { ArchiveFacts } from './archive-database';

/** `pg_restore -l` names the extension: `12; 3079 16385 EXTENSION - timescaledb`. */
const TIMESCALEDB_ENTRY = /^\d+; \d+ \d+ EXTENSION - timescaledb$/;

export function archiveHasTimescaleDb(facts: Pick<ArchiveFacts, 'entries'>): boolean {
  return facts.entries.some((line) => TIMESCALEDB_ENTRY.test(line.trim()));
}

/**
 * A TimescaleDB database restores only in TimescaleDB's restoring mode: the extension created first,
 * timescaledb_pre_restore(), pg_restore, timescaledb_post_restore() (which restarts its jobs).
 * Without the extension in the archive, `restore` runs as is.
 */
export async function withTimescaleDbRestore<T>(
  context: JobContext,
  facts: Pick<ArchiveFacts, 'entries'>,
  database: string,
  restore: () => Promise<T>,
): Promise<T> {
  if (!archiveHasTimescaleDb(facts)) return restore();
  await inDatabase(context, database, async (client) => {
    try {
      await client.query(loadSql('restore/timescaledb-pre-restore'));
    } catch (error) {
      throw new JobError(
        `the backup holds a TimescaleDB database, but TimescaleDB could not be prepared in "${database}": ${errorMessage(error)} (install the timescaledb extension of the backup's version on this server, with shared_preload_libraries = 'timescaledb')`,
      );
    }
  });
  context.logger.info(`TimescaleDB: "${database}" in restoring mode for pg_restore`);
  const result = await restore();
  await inDatabase(context, database, (client) => client.query(loadSql('restore/timescaledb-post-restore')));
  return result;
}

async function inDatabase(context: JobContext, database: string, work: (client: Client) => Promise<unknown>) {
  const client = await context.connect({ database, statementTimeoutMs: 0 });
  try {
    await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}
