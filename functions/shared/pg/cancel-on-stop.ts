import type { Client } from 'pg';
import { loadSql } from '../sql';

/** Cancels what the server process `pid` runs, from another connection. */
export type CancelBackend = (pid: number) => Promise<void>;

/** A CancelBackend that opens a session of its own for each cancel (the run's session is busy). */
export function cancelFromAnotherSession(connect: () => Promise<Client>): CancelBackend {
  return async (pid) => {
    const other = await connect();
    try {
      await other.query(loadSql('shared/cancel-backend'), [pid]);
    } finally {
      await other.end().catch(() => {});
    }
  };
}

/**
 * Runs `work` (statements on `client`); a stop meanwhile cancels the one under way on the server,
 * which rolls its transaction back, instead of waiting for it. `work` then rejects with the
 * server's "canceling statement" error: the caller checks `signal.aborted` to tell it from a
 * statement timeout.
 */
export async function cancelledOnStop<T>(
  client: Client,
  stop: { readonly signal?: AbortSignal; readonly cancelBackend?: CancelBackend },
  work: () => Promise<T>,
): Promise<T> {
  const { signal, cancelBackend } = stop;
  if (!signal || !cancelBackend) return work();
  const pid = await backendPid(client);
  signal.throwIfAborted();
  const cancel = () => {
    cancelBackend(pid).catch(() => {}); // the statement's own error reports what happened
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** Asked once per session: a retention run cancels with it around every batch. */
const pids = new WeakMap<Client, number>();

async function backendPid(client: Client): Promise<number> {
  const known = pids.get(client);
  if (known !== undefined) return known;
  const pid = Number((await client.query<{ pid: number }>(loadSql('shared/backend-pid'))).rows[0]?.pid);
  pids.set(client, pid);
  return pid;
}
