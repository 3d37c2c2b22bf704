import type { Client } from 'pg';
import { errorMessage, JobError } from '../shared/errors';
import { ident } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';

const RENAME_ATTEMPTS = 5;

/**
 * The replace swap, run from a third database (neither side can be renamed while we are in it):
 * the live database stops taking connections, its sessions are ended (only now, at the swap),
 * it is renamed to `kept`, and the restored copy takes the live name. If the second rename fails
 * the first is undone, so the live name always points at a whole database.
 */
export async function swapDatabases(
  admin: Client,
  names: { live: string; restored: string; kept: string },
): Promise<void> {
  const live = ident(names.live);
  const kept = ident(names.kept);
  await admin.query(`alter database ${live} with allow_connections false`);
  try {
    await renameWithRetry(admin, names.live, names.kept);
  } catch (error) {
    await admin.query(`alter database ${live} with allow_connections true`).catch(() => {});
    throw error;
  }
  try {
    await admin.query(`alter database ${ident(names.restored)} rename to ${live}`);
  } catch (error) {
    await admin.query(`alter database ${kept} rename to ${live}`).catch(() => {});
    await admin.query(`alter database ${live} with allow_connections true`).catch(() => {});
    throw new JobError(`the swap failed and was undone: ${errorMessage(error)}`);
  }
  // The kept copy stays reachable, so an operator can inspect it before dropping it.
  await admin.query(`alter database ${kept} with allow_connections true`);
}

/** Sessions can slip in between terminate and rename (pools reconnect): end them and try again. */
async function renameWithRetry(admin: Client, from: string, to: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < RENAME_ATTEMPTS; attempt++) {
    await admin.query(loadSql('restore/terminate-sessions'), [from]);
    try {
      await admin.query(`alter database ${ident(from)} rename to ${ident(to)}`);
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
  }
  throw new JobError(`could not rename database "${from}": ${errorMessage(lastError)}`);
}
