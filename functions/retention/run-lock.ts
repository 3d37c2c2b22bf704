import type { Client } from 'pg';
import { releaseJobLock, takeJobLockOrRefuse } from '../shared/job-lock';

/** Takes the database's retention lock, or refuses naming the session that holds it. */
export async function takeRunLock(client: Client): Promise<void> {
  await takeJobLockOrRefuse(client, 'retention');
}

export async function releaseRunLock(client: Client): Promise<void> {
  await releaseJobLock(client, 'retention');
}
