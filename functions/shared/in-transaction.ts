import type { Client } from 'pg';

/** Timeouts that hold for one transaction only (SET LOCAL), in milliseconds. */
export interface TransactionLimits {
  readonly lockTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

/**
 * Runs `work` in one transaction: committed when it returns, rolled back when it throws (the
 * error goes on unchanged, so callers can read its SQLSTATE). `limits` end with the transaction.
 */
export async function inTransaction<T>(
  client: Client,
  work: () => Promise<T>,
  limits: TransactionLimits = {},
): Promise<T> {
  await client.query('begin');
  try {
    const settings = [
      limits.lockTimeoutMs !== undefined ? `set local lock_timeout = ${whole(limits.lockTimeoutMs)}` : '',
      limits.statementTimeoutMs !== undefined
        ? `set local statement_timeout = ${whole(limits.statementTimeoutMs)}`
        : '',
    ].filter(Boolean);
    if (settings.length > 0) await client.query(settings.join('; '));
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

/** A timeout of at least 1 ms: 0 would mean "none". */
const whole = (ms: number) => Math.max(1, Math.round(ms));
