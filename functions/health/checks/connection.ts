import { loadSql } from '../../shared/sql';
import type { CheckResult } from '../check';

export interface ConnectionThresholds {
  /** Connect plus one round trip, in milliseconds. */
  readonly warningMs: number;
}

export const CONNECTION_DEFAULTS: ConnectionThresholds = { warningMs: 1000 };

interface ServerFacts {
  server_version: string;
  server_version_num: number;
  in_recovery: boolean;
  database: string;
}

/**
 * `connection`: connect plus one round trip, and the server's version. The caller times the
 * connect; a failure to connect at all is the critical case and is reported by the caller.
 */
export async function connectionCheck(
  query: (sql: string) => Promise<{ rows: ServerFacts[] }>,
  connectMs: number,
  thresholds: ConnectionThresholds = CONNECTION_DEFAULTS,
  clock: () => number = () => performance.now(),
): Promise<CheckResult> {
  const started = clock();
  const facts = (await query(loadSql('health/connection'))).rows[0];
  const roundTripMs = Math.round(connectMs + (clock() - started));
  const slow = roundTripMs > thresholds.warningMs;
  return {
    name: 'connection',
    status: slow ? 'warning' : 'ok',
    message: `connected in ${roundTripMs} ms to PostgreSQL ${facts?.server_version}${facts?.in_recovery ? ' (standby)' : ''}${
      slow ? ` (slower than ${thresholds.warningMs} ms)` : ''
    }`,
    value: roundTripMs,
    unit: 'ms',
    details: {
      serverVersion: facts?.server_version,
      serverVersionNum: facts?.server_version_num,
      inRecovery: facts?.in_recovery,
      database: facts?.database,
    },
  };
}
