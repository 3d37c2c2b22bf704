import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { inject } from 'vitest';
import { type ConnectionSettings, settingsFromUrl } from '../../functions/shared/credentials';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly settings: ConnectionSettings;
  /** A superuser connection to this database, closed by the caller. */
  connect(): Promise<Client>;
  /** Runs SQL as superuser in this database. */
  sql(text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  drop(): Promise<void>;
}

export function adminUrl(database = 'postgres'): string {
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh database on the shared test server, so test files never see each other's tables. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  await withAdmin((client) => client.query(`create database ${name}`));
  const url = adminUrl(name);
  const connect = async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    return client;
  };
  return {
    name,
    url,
    settings: settingsFromUrl(url),
    connect,
    async sql(text, values) {
      const client = await connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    drop: () =>
      withAdmin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

export async function withAdmin<T>(work: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = new Client({ connectionString: adminUrl(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * SQL that creates `table` with `rows` rows of 1 kB of random bytes each: data gzip cannot shrink,
 * so a dump of it is as large as the table, and takes a moment.
 */
export const incompressibleTableSql = (table: string, rows: number) => `
  create table ${table} (id int primary key, data bytea not null);
  insert into ${table}
    select b, (select decode(string_agg(md5(b::text || ':' || g::text || random()::text), ''), 'hex')
               from generate_series(1, 64) g)
    from generate_series(1, ${rows}) b;
`;
