import type { Client } from 'pg';
import { RequestRefusedError } from './errors';
import { loadSql } from './sql';

/**
 * A session advisory lock per job and database (sql/shared/job-lock-*.sql), so two runs of one job
 * never work on the same database at once, whoever started them (schedule, console, CLI).
 */
export async function tryJobLock(client: Client, job: string): Promise<boolean> {
  await client.query(loadSql('shared/job-lock-keepalive'));
  const { rows } = await client.query<{ acquired: boolean }>(loadSql('shared/job-lock-try'), [job]);
  return rows[0]?.acquired === true;
}

export async function releaseJobLock(client: Client, job: string): Promise<void> {
  await client.query(loadSql('shared/job-lock-release'), [job]);
}

/** The session holding the job's lock, as words for a refusal. */
export async function describeJobLockHolder(client: Client, job: string): Promise<string> {
  const { rows } = await client.query<{
    pid: number;
    application_name: string;
    user_name: string;
    since: string;
  }>(loadSql('shared/job-lock-holder'), [job]);
  const holder = rows[0];
  return holder?.since
    ? `pid ${holder.pid}, ${holder.application_name || 'no application_name'}, user ${holder.user_name}, connected since ${holder.since}`
    : 'its session is not visible to this role';
}

/**
 * Takes the job's lock for this session, or refuses naming the session that holds it: a retry or
 * a second schedule never works on a database that a run of the same job is still working on.
 */
export async function takeJobLockOrRefuse(client: Client, job: string): Promise<void> {
  if (await tryJobLock(client, job)) return;
  const who = await describeJobLockHolder(client, job);
  throw new RequestRefusedError(
    `another ${job} run is already working on this database (${who}); this run did nothing`,
  );
}
