import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../helpers/cli';
import { clusterUser, freePort, type LocalPostgres, startLocalPostgres } from '../helpers/local-postgres';

/**
 * wal_archiving and replication_lag need a server of their own: one with archiving on (and an
 * archive_command that fails), and a streaming standby that replays with a delay.
 */

interface Check {
  name: string;
  status: string;
  value: number | null;
  message: string;
  details: Record<string, unknown>;
}

async function sql(url: string, text: string): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('health on a server with WAL archiving and a delayed streaming standby', () => {
  let primary: LocalPostgres;
  let standbyUrl: string;
  let standbyDir: string;
  let writer: ReturnType<typeof setInterval> | undefined;
  const user = clusterUser();

  const health = async (url: string, thresholds: Record<string, unknown> = {}) => {
    const out = await runCli([
      'health',
      '--config',
      writeConfig({ targets: { t: { url, health: { thresholds } } } }),
      '--target',
      't',
      '--json',
    ]);
    const result = JSON.parse(out.stdout) as { status: string; checks: Check[] };
    const check = (name: string) => result.checks.find((c) => c.name === name) as Check;
    return { result, check };
  };

  beforeAll(async () => {
    primary = await startLocalPostgres({
      extraSettings: { archive_mode: 'on', archive_command: "'false'", archive_timeout: '0' },
    });
    await sql(primary.url, 'create table ticks (at timestamptz default now())');

    standbyDir = mkdtempSync(join(tmpdir(), 'pgmaint-standby-'));
    if (user) chownSync(standbyDir, user.uid, user.gid);
    const data = join(standbyDir, 'data');
    const run = (command: string, args: string[]) => {
      const result = spawnSync(join(primary.bindir, command), args, {
        encoding: 'utf8',
        cwd: standbyDir,
        ...user,
      });
      if (result.status !== 0) {
        const log = existsSync(join(standbyDir, 'server.log'))
          ? readFileSync(join(standbyDir, 'server.log'), 'utf8')
          : '';
        throw new Error(`${command} failed: ${result.stderr || result.stdout}\n${log.slice(-2000)}`);
      }
    };
    run('pg_basebackup', ['-d', primary.url, '-D', data, '-R', '-X', 'stream', '--no-sync']);
    const port = await freePort();
    // The primary's postgresql.auto.conf ends without a newline, so pg_basebackup -R glued
    // primary_conninfo onto its last line.
    const autoConf = join(data, 'postgresql.auto.conf');
    writeFileSync(
      autoConf,
      readFileSync(autoConf, 'utf8').replace(/([^\n])primary_conninfo/, '$1\nprimary_conninfo'),
    );
    appendFileSync(
      autoConf,
      `\nport = ${port}\nunix_socket_directories = '${standbyDir}'\narchive_mode = off\nrecovery_min_apply_delay = '3s'\n`,
    );
    run('pg_ctl', ['-D', data, '-l', join(standbyDir, 'server.log'), '-w', '-t', '60', 'start']);
    const url = new URL(primary.url);
    url.port = String(port);
    standbyUrl = url.toString();
  }, 120_000);

  afterAll(async () => {
    if (writer) clearInterval(writer);
    if (standbyDir) {
      spawnSync(
        join(primary.bindir, 'pg_ctl'),
        ['-D', join(standbyDir, 'data'), '-m', 'immediate', '-w', 'stop'],
        {
          ...user,
        },
      );
      rmSync(standbyDir, { recursive: true, force: true });
    }
    await primary?.stop();
  });

  it('wal_archiving: a failing archive_command warns, and recovers once archiving works again', async () => {
    await sql(primary.url, 'insert into ticks default values');
    await sql(primary.url, 'select pg_switch_wal()');
    await until(
      async () =>
        Number((await sql(primary.url, 'select failed_count from pg_stat_archiver'))[0]?.failed_count) > 0,
    );
    const failing = (await health(primary.url)).check('wal_archiving');
    expect(failing.status).toBe('warning');
    expect(failing.value).toBe(1);
    expect(failing.message).toMatch(
      /^archiving fails since .* \(last failed segment [0-9A-F]{24}; last archived never\)$/,
    );

    await sql(primary.url, "alter system set archive_command = 'true'");
    await sql(primary.url, 'select pg_reload_conf()');
    await until(async () => {
      await sql(primary.url, 'insert into ticks default values');
      await sql(primary.url, 'select pg_switch_wal()');
      const [row] = await sql(
        primary.url,
        "select last_archived_time > coalesce(last_failed_time, last_archived_time - interval '1 second') as ok from pg_stat_archiver",
      );
      return row?.ok === true;
    });
    const working = (await health(primary.url)).check('wal_archiving');
    expect(working.status).toBe('ok');
    expect(working.message).toMatch(/^archiving works \(\d+ segments archived/);
  });

  it('replication_lag: a standby replaying 3 s behind, seen from the primary and from the standby itself', async () => {
    writer = setInterval(() => {
      sql(primary.url, 'insert into ticks default values').catch(() => {});
    }, 200);
    await until(async () => {
      const [row] = await sql(
        primary.url,
        'select extract(epoch from max(replay_lag))::float8 as lag from pg_stat_replication',
      );
      return Number(row?.lag) >= 2;
    });
    const fromPrimary = await health(primary.url, {
      replication_lag: { warning: '1 second', critical: '1 hour' },
    });
    const lag = fromPrimary.check('replication_lag');
    expect(lag.status).toBe('warning');
    expect(lag.value).toBeGreaterThanOrEqual(1);
    expect(lag.message).toMatch(/^1 standby\(s\); worst replay lag/);

    await until(async () => {
      const [row] = await sql(
        standbyUrl,
        'select extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8 as lag',
      );
      return row?.lag !== null && Number(row?.lag) >= 0;
    });
    const onStandby = await health(standbyUrl, {
      replication_lag: { warning: '1 second', critical: '1 hour' },
    });
    const own = onStandby.check('replication_lag');
    expect(own.status).toBe('warning');
    expect(own.message).toMatch(/^this standby last replayed a transaction .* ago/);
    expect(onStandby.check('connection').message).toContain('(standby)');
    expect(onStandby.result.checks.filter((c) => c.status === 'unknown')).toEqual([]);
    expect(onStandby.check('wal_archiving').status).toBe('skipped');

    clearInterval(writer);
    writer = undefined;
    const quiet = await health(primary.url);
    expect(quiet.check('replication_lag').status).toBe('ok');
  });
});
