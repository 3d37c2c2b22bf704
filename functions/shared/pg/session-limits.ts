import type { Client, ClientConfig } from 'pg';

/**
 * The one place pgmaint sets a session's limits: when it connects (startup parameters), for the
 * rest of a session, or for one transaction (SET LOCAL). Values are milliseconds and travel as bind
 * parameters of set_config, so no number is ever spliced into SQL text.
 */
export interface SessionLimits {
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly idleInTransactionTimeoutMs?: number;
}

type Limit = keyof SessionLimits;

/** Statement and lock timeouts off, for what may take as long as it takes (a session default too). */
export const NO_TIMEOUTS: SessionLimits = { statementTimeoutMs: 0, lockTimeoutMs: 0 };

const SETTING: Readonly<Record<Limit, string>> = {
  statementTimeoutMs: 'statement_timeout',
  lockTimeoutMs: 'lock_timeout',
  idleInTransactionTimeoutMs: 'idle_in_transaction_session_timeout',
};

const LIMITS = Object.keys(SETTING) as Limit[];

/**
 * A new connection's startup parameters: application_name `pgmaint/<job>`, so a DBA sees who is
 * connected, and the limits the session starts with (the values RESET goes back to).
 */
export function startupSettings(
  job: string,
  limits: SessionLimits,
): Pick<
  ClientConfig,
  'application_name' | 'statement_timeout' | 'lock_timeout' | 'idle_in_transaction_session_timeout'
> {
  const settings: ReturnType<typeof startupSettings> = { application_name: `pgmaint/${job}` };
  if (limits.statementTimeoutMs !== undefined) settings.statement_timeout = limits.statementTimeoutMs;
  if (limits.lockTimeoutMs !== undefined) settings.lock_timeout = limits.lockTimeoutMs;
  if (limits.idleInTransactionTimeoutMs !== undefined)
    settings.idle_in_transaction_session_timeout = limits.idleInTransactionTimeoutMs;
  return settings;
}

/**
 * The limits of `startupSettings` that are 0 ("none"). The pg driver sends a timeout at startup
 * only when it is non-zero, so without setting these after connecting a session would keep the
 * role's or database's own timeout (RDS users often set one) and a long dump count or restore
 * would be cancelled by it.
 */
export function unlimitedOnes(limits: SessionLimits): SessionLimits {
  return Object.fromEntries(LIMITS.filter((limit) => limits[limit] === 0).map((limit) => [limit, 0]));
}

/** Sets the given limits for the rest of the session; 0 = none. */
export async function setSessionLimits(client: Client, limits: SessionLimits): Promise<void> {
  await setLimits(client, limits, false, (ms) => Math.round(ms));
}

/**
 * Sets the given limits until the current transaction ends (SET LOCAL). A value rounds to at least
 * 1 ms: 0 would mean "no limit", the opposite of a deadline that has almost run out.
 */
export async function setTransactionLimits(client: Client, limits: SessionLimits): Promise<void> {
  await setLimits(client, limits, true, (ms) => Math.max(1, Math.round(ms)));
}

/** Back to the limits the session started with (startupSettings, else the role's and server's). */
export async function resetSessionLimits(client: Client, which: readonly Limit[]): Promise<void> {
  if (which.length > 0) await client.query(which.map((limit) => `reset ${SETTING[limit]}`).join('; '));
}

async function setLimits(
  client: Client,
  limits: SessionLimits,
  local: boolean,
  value: (ms: number) => number,
): Promise<void> {
  const given = LIMITS.filter((limit) => limits[limit] !== undefined);
  if (given.length === 0) return;
  // Setting names are this module's constants; only the values are parameters.
  const calls = given.map((limit, i) => `set_config('${SETTING[limit]}', $${i + 1}::text, ${local})`);
  await client.query(
    `select ${calls.join(', ')}`,
    given.map((limit) => String(value(limits[limit] as number))),
  );
}
