import type { Client } from 'pg';
import { type SessionLimits, setTransactionLimits } from './pg/session-limits';

/**
 * Runs `work` in one transaction: committed when it returns, rolled back when it throws (the
 * error goes on unchanged, so callers can read its SQLSTATE). `limits` end with the transaction.
 */
export async function inTransaction<T>(
  client: Client,
  work: () => Promise<T>,
  limits: SessionLimits = {},
): Promise<T> {
  await client.query('begin');
  try {
    await setTransactionLimits(client, limits);
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}
