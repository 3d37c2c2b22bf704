import type { Client } from 'pg';
import { errorMessage, JobError } from '../shared/errors';
import { ident } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';

const SWAP_ATTEMPTS = 5;

/**
 * The replace swap, run from a third database (neither side can be renamed while we are in it):
 * the live database's sessions are ended (only now, at the swap), it is renamed to `kept`, and the
 * restored copy takes the live name, both renames in one transaction. Whatever stops the run
 * meanwhile (an error, a signal, the process killed, the connection lost), the live name points
 * at a whole database: the one it did, or, once committed, the restored copy. The kept copy stays
 * reachable, so an operator can inspect it before dropping it.
 */
export async function swapDatabases(
  admin: Client,
  names: { live: string; restored: string; kept: string },
): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < SWAP_ATTEMPTS; attempt++) {
    try {
      await admin.query('begin');
      // Sessions can slip in between terminate and rename (pools reconnect): the rename then
      // fails, the transaction rolls back, and the next attempt ends them again.
      await admin.query(loadSql('restore/terminate-sessions'), [names.live]);
      await admin.query(`alter database ${ident(names.live)} rename to ${ident(names.kept)}`);
      await admin.query(`alter database ${ident(names.restored)} rename to ${ident(names.live)}`);
      await admin.query('commit');
      return;
    } catch (error) {
      lastError = error;
      await admin.query('rollback').catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
  }
  throw new JobError(
    `the swap failed and was undone, "${names.live}" is the database it was: ${errorMessage(lastError)}`,
  );
}
