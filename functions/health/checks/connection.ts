import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface ServerFacts {
  server_version: string;
  server_version_num: number;
  in_recovery: boolean;
  database: string;
}

/**
 * `connection`: connect plus one round trip, and the server's version. The suite times the
 * connect; a failure to connect at all is the critical case and fails the whole run.
 */
export const connectionCheck: HealthCheck = {
  name: 'connection',
  unit: 'ms',
  kind: 'duration',
  defaults: { warning: '1 second', critical: null },
  async run({ query, connectMs }) {
    const started = performance.now();
    const [facts] = await query<ServerFacts>(loadSql('health/connection'));
    const roundTripMs = Math.round(connectMs + (performance.now() - started));
    return {
      value: roundTripMs,
      message: `connected in ${roundTripMs} ms to PostgreSQL ${facts?.server_version}${facts?.in_recovery ? ' (standby)' : ''}`,
      details: {
        serverVersion: facts?.server_version,
        serverVersionNum: facts?.server_version_num,
        inRecovery: facts?.in_recovery,
        database: facts?.database,
      },
      recommendation:
        'Connecting is slow: check the network path and DNS, TLS handshakes, and whether the server is saturated (connections, CPU); a pooler close to the database helps.',
    };
  },
};
