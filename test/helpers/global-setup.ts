import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { assertFakedClocks } from './faked-clock';
import { type LocalPostgres, startLocalPostgres } from './local-postgres';
import { type LocalAws, startMoto } from './moto';
import { ensurePgClient } from './pg-client-build';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server; each test file creates its own database on it. */
    pgAdminUrl: string;
    /** Directory with the PostgreSQL client binaries that match the server (Debian's 15: gzip dumps). */
    pgBindir: string;
    /**
     * The newest PostgreSQL client, the one the Lambda image ships (18: zstd dumps). Integration
     * tests and the CLI runs they spawn use it through PGMAINT_PG_BINDIR (integration-env.ts).
     */
    pgClientBindir: string;
    awsEndpoint: string;
  }
}

/**
 * Starts the integration backends once per run: a real PostgreSQL and a real AWS API emulator.
 * Docker reachable → testcontainers (PostgreSQL, LocalStack). No Docker (this machine) → a
 * throwaway cluster from local binaries and moto_server. PGMAINT_TEST_DATABASE_URL and
 * AWS_ENDPOINT_URL point at existing ones instead. A backend that cannot start fails the run:
 * integration tests never skip. PGMAINT_TEST_PG_TIMEZONE sets the local cluster's TimeZone
 * (test:dates runs the daylight-saving dates in Europe/London); under test:dates the faked clock
 * of every backend is checked before any test runs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  // Built once per machine (about a minute), then reused from the cache in well under a second.
  const pgClientBindir = await ensurePgClient();
  const docker = Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');

  let pgAdminUrl = process.env.PGMAINT_TEST_DATABASE_URL;
  let pgBindir = process.env.PGMAINT_PG_BINDIR ?? '';
  if (!pgAdminUrl) {
    if (docker) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:15')
        .withCommand([
          'postgres',
          '-c',
          'max_prepared_transactions=20',
          '-c',
          'shared_preload_libraries=pg_stat_statements',
          '-c',
          'wal_level=logical',
        ])
        .start();
      stops.push(async () => void (await container.stop()));
      pgAdminUrl = container.getConnectionUri();
    } else {
      const timezone = process.env.PGMAINT_TEST_PG_TIMEZONE;
      const local: LocalPostgres = await startLocalPostgres(
        timezone ? { extraSettings: { timezone: `'${timezone}'` } } : {},
      );
      stops.push(local.stop);
      pgAdminUrl = local.url;
      pgBindir = local.bindir;
    }
  }
  if (!pgBindir) pgBindir = (await import('./local-postgres')).postgresBindir();

  let awsEndpoint = process.env.AWS_ENDPOINT_URL;
  if (!awsEndpoint) {
    if (docker) {
      const { LocalstackContainer } = await import('@testcontainers/localstack');
      const container = await new LocalstackContainer('localstack/localstack:3').start();
      stops.push(async () => void (await container.stop()));
      awsEndpoint = container.getConnectionUri();
    } else {
      const moto: LocalAws = await startMoto();
      stops.push(moto.stop);
      awsEndpoint = moto.endpoint;
    }
  }

  await assertFakedClocks(pgAdminUrl, awsEndpoint);
  project.provide('pgAdminUrl', pgAdminUrl);
  project.provide('pgBindir', pgBindir);
  project.provide('pgClientBindir', pgClientBindir);
  project.provide('awsEndpoint', awsEndpoint);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
