import { Client, type ClientConfig } from 'pg';
import { type ConnectionSettings, describeConnection, type SslMode } from './credentials';
import { ConnectionError } from './errors';
import { type SessionLimits, setSessionLimits, startupSettings, unlimitedOnes } from './pg/session-limits';

export interface SessionOptions extends SessionLimits {
  /** application_name becomes `pgmaint/<job>`, so a DBA sees who is connected. */
  readonly job: string;
  readonly connectTimeoutMs?: number;
  /** Connect to another database on the same server (restore, drills). */
  readonly database?: string;
}

const SERVER_REFUSES_SSL = /does not support SSL/i;

/** Opens one connection with pgmaint's session settings; errors say what failed and where. */
export async function connect(settings: ConnectionSettings, options: SessionOptions): Promise<Client> {
  try {
    return await open(settings, options, settings.sslMode);
  } catch (error) {
    // libpq's "prefer"/"allow": fall back to plain text only when the server has no SSL at all.
    if (
      (settings.sslMode === 'prefer' || settings.sslMode === 'allow') &&
      SERVER_REFUSES_SSL.test((error as Error).message)
    ) {
      try {
        return await open(settings, options, 'disable');
      } catch (retryError) {
        throw describeConnectError(retryError, settings, options);
      }
    }
    throw describeConnectError(error, settings, options);
  }
}

async function open(
  settings: ConnectionSettings,
  options: SessionOptions,
  sslMode: SslMode,
): Promise<Client> {
  const config: ClientConfig = {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: options.database ?? settings.database,
    ...startupSettings(options.job, options),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    ssl: sslConfig(sslMode),
  };
  const client = new Client(config);
  // An error event on an idle client would otherwise crash the process; the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
    await setSessionLimits(client, unlimitedOnes(options));
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

function sslConfig(mode: SslMode): ClientConfig['ssl'] {
  switch (mode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // Certificate chain checked against trusted CAs (NODE_EXTRA_CA_CERTS adds the RDS bundle).
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

function describeConnectError(
  error: unknown,
  settings: ConnectionSettings,
  options: SessionOptions,
): ConnectionError {
  const where = describeConnection(settings, options.database ?? settings.database);
  const err = error as NodeJS.ErrnoException & { code?: string };
  let reason: string;
  switch (err.code) {
    case '28P01':
      reason = `password authentication failed for user "${settings.user}"`;
      break;
    case '28000':
      reason = `the server rejected the login (pg_hba.conf or role): ${err.message}`;
      break;
    case '3D000':
      reason = `database "${options.database ?? settings.database}" does not exist`;
      break;
    case 'ECONNREFUSED':
      reason = 'connection refused (is the server running and reachable?)';
      break;
    case 'ENOTFOUND':
      reason = `host "${settings.host}" not found`;
      break;
    case 'ETIMEDOUT':
      reason = 'connection timed out';
      break;
    default:
      reason = /timeout/i.test(err.message) ? 'connection timed out' : err.message;
  }
  return new ConnectionError(`cannot connect to ${where}: ${reason}`, { cause: error });
}

/** server_version_num, e.g. 150004. */
export async function serverVersionNum(client: Client): Promise<number> {
  const result = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
  return Number(result.rows[0]?.v);
}
