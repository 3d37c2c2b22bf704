import type { Client } from 'pg';
import { RequestRefusedError } from '../shared/errors';
import { describeJobLockHolder, releaseJobLock, tryJobLock } from '../shared/job-lock';

/** Takes the database's retention lock, or refuses naming the session that holds it. */
export async function takeRunLock(client: Client): Promise<void> {
  if (await tryJobLock(client, 'retention')) return;
  const who = await describeJobLockHolder(client, 'retention');
  throw new RequestRefusedError(
    `another retention run is already working on this database (${who}); this run did nothing`,
  );
}

export async function releaseRunLock(client: Client): Promise<void> {
  await releaseJobLock(client, 'retention');
}
