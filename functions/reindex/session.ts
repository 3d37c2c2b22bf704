import type { Client } from 'pg';
import type { JobContext } from '../shared/job';
import { releaseJobLock, tryJobLock } from '../shared/job-lock';

/**
 * The run's one connection. It holds the advisory lock that keeps a second run out; if the server
 * drops it (a terminated backend), `revive` reconnects and takes the lock again, or reports that
 * another run took it meanwhile.
 */
export interface Session {
  readonly client: Client;
  /** Reconnects when the connection is dead; false when the lock is now someone else's. */
  revive(): Promise<boolean>;
  close(): Promise<void>;
}

export const tryLock = (client: Client) => tryJobLock(client, 'reindex');

export function openSession(context: JobContext, first: Client): Session {
  let client = first;
  return {
    get client() {
      return client;
    },
    async revive() {
      if (await isAlive(client)) return true;
      await client.end().catch(() => {});
      client = await context.connect();
      return tryLock(client);
    },
    async close() {
      await releaseJobLock(client, 'reindex').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

async function isAlive(client: Client): Promise<boolean> {
  try {
    await client.query('select 1');
    return true;
  } catch {
    return false;
  }
}
