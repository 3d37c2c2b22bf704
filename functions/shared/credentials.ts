import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sdk } from './aws';
import { ConfigError, ConnectionError } from './errors';
import { registerSecret } from './secrets-scrub';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** RDS and Aurora endpoints; their certificates chain to the RDS CA bundle the image carries. */
const RDS_HOST = /\.rds\.amazonaws\.com(\.cn)?$/i;

/** Where and how to reach one target's database. Never logged: it carries the password. */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly sslMode: SslMode;
}

export type SecretReader = (secretId: string) => Promise<string>;

/**
 * Secrets Manager, cached per warm Lambda for a few minutes so a rotated password is picked up.
 * The client is made on the first read: a run whose target has a `url` never loads the SDK.
 */
export function cachedSecretReader(
  makeClient: () => SecretsManagerClient,
  ttlMs = 5 * 60_000,
  now = Date.now,
): SecretReader & {
  forget(secretId: string): void;
} {
  const cache = new Map<string, { value: string; expires: number }>();
  let client: SecretsManagerClient | undefined;
  const read = async (secretId: string) => {
    const hit = cache.get(secretId);
    if (hit && hit.expires > now()) return hit.value;
    let value: string | undefined;
    try {
      client ??= makeClient();
      const { GetSecretValueCommand } = sdk.secretsManager();
      value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (error) {
      const name = (error as Error).name;
      throw new ConnectionError(
        `cannot read secret "${secretId}" from Secrets Manager: ${name}: ${(error as Error).message}`,
      );
    }
    if (value === undefined) throw new ConnectionError(`secret "${secretId}" has no SecretString`);
    cache.set(secretId, { value, expires: now() + ttlMs });
    return value;
  };
  return Object.assign(read, { forget: (secretId: string) => void cache.delete(secretId) });
}

/**
 * The RDS secret JSON: username, password, host, port, dbname, optional sslmode. Without an
 * sslmode, an RDS host is verified (`verify-full`: the certificate chains to the RDS CA and names
 * the host), so nobody between the function and the database can read the password; any other
 * host keeps libpq's `prefer`.
 */
export function settingsFromSecret(secretId: string, secretText: string): ConnectionSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretText);
  } catch {
    // Do not echo the text: it is the secret.
    throw new ConfigError([`secret "${secretId}" is not JSON (expected the RDS secret shape)`], 'bad secret');
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const text = (key: string, required = true): string | undefined => {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
    if (required) problems.push(`secret "${secretId}": field "${key}" is missing or not a string`);
    return undefined;
  };
  const user = text('username');
  const password = text('password');
  const host = text('host');
  const database = text('dbname', false) ?? 'postgres';
  const portValue = record.port ?? 5432;
  const port = Number(portValue);
  if (!Number.isInteger(port) || port <= 0)
    problems.push(`secret "${secretId}": field "port" is not a port number`);
  const sslMode =
    record.sslmode === undefined && host && RDS_HOST.test(host)
      ? 'verify-full'
      : parseSslMode(record.sslmode, `secret "${secretId}": field "sslmode"`, problems);
  registerSecret(password);
  if (problems.length > 0 || !user || !password || !host) throw new ConfigError(problems, 'bad secret');
  return { host, port, database, user, password, sslMode };
}

/** A postgres:// URL, for local runs (CLI, demo). */
export function settingsFromUrl(url: string): ConnectionSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(['url: not a valid postgres:// URL'], 'bad target');
  }
  const problems: string[] = [];
  const password = decodeURIComponent(parsed.password);
  registerSecret(password);
  const sslMode = parseSslMode(parsed.searchParams.get('sslmode') ?? undefined, 'url: sslmode', problems);
  // A URL may name a Unix socket directory with ?host=/path, as libpq allows.
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  if (problems.length > 0) throw new ConfigError(problems, 'bad target');
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 5432,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    user: decodeURIComponent(parsed.username) || 'postgres',
    password,
    sslMode,
  };
}

function parseSslMode(value: unknown, where: string, problems: string[]): SslMode {
  if (value === undefined || value === null) return 'prefer';
  if (typeof value === 'string' && (SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  problems.push(`${where}: expected one of ${SSL_MODES.join(', ')}`);
  return 'prefer';
}

/**
 * Resolves a target's connection settings from its secret (deployed) or URL (local runs); the
 * target's own `sslmode` and `dbname`, when the config sets them, win over both.
 */
export async function resolveConnection(
  target: {
    secret?: string | undefined;
    url?: string | undefined;
    sslmode?: SslMode | undefined;
    dbname?: string | undefined;
  },
  readSecret: SecretReader,
): Promise<ConnectionSettings> {
  let settings: ConnectionSettings;
  if (target.url) settings = settingsFromUrl(target.url);
  else if (target.secret) settings = settingsFromSecret(target.secret, await readSecret(target.secret));
  else throw new ConfigError(['target has neither "secret" nor "url"'], 'bad target');
  return {
    ...settings,
    ...(target.sslmode ? { sslMode: target.sslmode } : {}),
    ...(target.dbname ? { database: target.dbname } : {}),
  };
}

/** libpq environment for child processes (pg_dump, pg_restore): the password never reaches argv. */
export function libpqEnv(
  settings: ConnectionSettings,
  applicationName: string,
  database = settings.database,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  // The tools run with a bare environment: hand them the CA bundle that verify-* checks against.
  const rootCert = env.PGSSLROOTCERT;
  return {
    ...(rootCert ? { PGSSLROOTCERT: rootCert } : {}),
    PGHOST: settings.host,
    PGPORT: String(settings.port),
    PGUSER: settings.user,
    PGPASSWORD: settings.password,
    PGDATABASE: database,
    PGSSLMODE: settings.sslMode,
    PGAPPNAME: applicationName,
    PGCONNECT_TIMEOUT: '10',
  };
}

/** host:port/database, safe to print. */
export function describeConnection(settings: ConnectionSettings, database = settings.database): string {
  return `${settings.user}@${settings.host}:${settings.port}/${database}`;
}
