import type { Client } from 'pg';
import { RefusedError } from '../shared/errors';
import { loadSql } from '../shared/sql';

/** Takes the database's retention lock, or refuses naming the session that holds it. */
export async function takeRunLock(client: Client): Promise<void> {
  const acquired = (await client.query<{ acquired: boolean }>(loadSql('retention/try-lock'))).rows[0]
    ?.acquired;
  if (acquired) return;
  const holder = (
    await client.query<{ pid: number; application_name: string; user_name: string; since: string }>(
      loadSql('retention/lock-holder'),
    )
  ).rows[0];
  const who = holder?.since
    ? `pid ${holder.pid}, ${holder.application_name || 'no application_name'}, user ${holder.user_name}, connected since ${holder.since}`
    : 'its session is not visible to this role';
  throw new RefusedError(
    `another retention run is already working on this database (${who}); this run did nothing`,
  );
}

export async function releaseRunLock(client: Client): Promise<void> {
  await client.query(loadSql('retention/unlock'));
}
