import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swapDatabases } from '../../functions/restore/swap-databases';
import { tryJobLock } from '../../functions/shared/job-lock';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { adminUrl, createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy';
import { alive, childProcesses, until } from '../helpers/processes';
import { testTempDir } from '../helpers/temp-dirs';

const BIN = join(__dirname, '..', '..', 'bin', 'pgmaint.js');
const execFileAsync = promisify(execFile);

/**
 * The restore tools a CLI process started (its direct children named pg_restore, or psql: a newer
 * pg_restore into an older server writes a script that psql runs).
 */
const pgRestoreChildren = (parent: number) => childProcesses(parent, ['pg_restore', 'psql']);

async function databasesLike(prefix: string): Promise<string[]> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1) order by 1',
      [prefix],
    );
    return rows.map((r) => r.datname);
  });
}

describe('an interrupted restore leaves the server as it found it', () => {
  let prod: TestDatabase;
  let secret: string;
  let bucket: string;
  let proxy: FaultProxy;
  /** What the live database holds, to prove a stopped restore never touched it. */
  let liveRows: unknown;

  beforeAll(async () => {
    prod = await createTestDatabase('restore_stop');
    // Building this index calls a function that sleeps 5 ms a row: pg_restore spends ten seconds on
    // it, so a restore is certainly under way when the signal comes. The filler makes the archive
    // long enough to hold its download mid-way.
    await prod.sql(`
      create function slow_key(i int) returns int language plpgsql immutable as
        $$ begin perform pg_sleep(0.005); return i; end $$;
      create table slow (i int not null);
      insert into slow select generate_series(1, 2000);
      create index slow_key_idx on slow (slow_key(i));
      create table filler (id int primary key, note text not null);
      insert into filler select g, md5(g::text) || md5((g * 7)::text) from generate_series(1, 20000) g;
    `);
    liveRows = await prod.sql(
      'select (select count(*) from slow)::int as slow, (select count(*) from filler)::int as filler',
    );
    secret = await createRdsSecret(prod.settings);
    bucket = await createBucket();
    const backup = await runCli(['backup', '--config', config(), '--target', 'prod', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL ?? '');
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    for (const name of await databasesLike(prod.name))
      await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
  });

  function config(topicArn?: string): string {
    return writeConfig({
      ...(topicArn ? { alerts: { topicArn } } : {}),
      backupBucket: bucket,
      targets: { prod: { secret } },
    });
  }

  /** `pgmaint restore` as its own process (and process group, as a shell job is), S3 through the proxy. */
  function startRestore(args: string[], env: NodeJS.ProcessEnv = {}) {
    const child: ChildProcess = spawn(process.execPath, [BIN, 'restore', ...args], {
      env: { ...process.env, AWS_ENDPOINT_URL: proxy.endpoint, ...env },
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.stdout?.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const stopped = (signal: NodeJS.Signals) =>
      Promise.race([
        exited,
        new Promise((resolve) => setTimeout(resolve, 60_000)).then(() => {
          child.kill('SIGKILL');
          throw new Error(`still running 60 s after ${signal}: ${stderr}`);
        }),
      ]);
    return { child, pid: child.pid as number, stopped, stderr: () => stderr };
  }

  /** The database pg_restore is building an index in, once it is. */
  const restoringInto = () =>
    until('pg_restore to be building the slow index', async () => {
      const rows = await prod.sql(
        `select datname from pg_stat_activity
         where application_name = 'pgmaint/restore' and state = 'active' and query ilike 'create index%'`,
      );
      return rows[0]?.datname as string | undefined;
    });

  async function expectNothingLeft(scratch: string | undefined, pgRestores: readonly number[]) {
    expect(await databasesLike(prod.name)).toEqual([prod.name]);
    if (scratch) expect(scratch).not.toBe(prod.name);
    for (const pid of pgRestores) expect(alive(pid)).toBe(false);
    await until(
      'the restore sessions to end',
      async () => {
        const rows = await prod.sql(
          "select count(*)::int as n from pg_stat_activity where application_name = 'pgmaint/restore'",
        );
        return rows[0]?.n === 0 ? true : undefined;
      },
      10_000,
    );
    // The restore's lock went with its session: another restore of this database could start now.
    const other = new Client({ connectionString: adminUrl('postgres') });
    await other.connect();
    try {
      expect(await tryJobLock(other, `restore of "${prod.name}"`)).toBe(true);
    } finally {
      await other.end();
    }
    expect(
      await prod.sql(
        'select (select count(*) from slow)::int as slow, (select count(*) from filler)::int as filler',
      ),
    ).toEqual(liveRows);
  }

  for (const [signal, exitCode, how] of [
    ['SIGTERM', 143, 'to the pgmaint process (docker stop, ECS, kill)'],
    ['SIGINT', 130, 'to its whole process group (Ctrl-C: pg_restore gets it too)'],
  ] as const) {
    it(`${signal} ${how} mid-pg_restore: scratch database dropped, pg_restore gone, exit ${exitCode}, one alert`, async () => {
      const inbox: Inbox = await createTopicInbox();
      const run = startRestore(['--config', config(inbox.topicArn), '--target', 'prod']);
      const scratch = await restoringInto();
      expect(scratch).toMatch(new RegExp(`^${prod.name}_restore_\\d{12}$`));
      const pgRestores = pgRestoreChildren(run.pid);
      expect(pgRestores.length).toBeGreaterThan(0);

      if (signal === 'SIGINT') process.kill(-run.pid, 'SIGINT');
      else run.child.kill('SIGTERM');
      const exit = await run.stopped(signal);

      expect(exit, run.stderr()).toEqual({ code: exitCode, signal: null });
      expect(run.stderr()).toContain(`stopped by ${signal}`);
      await expectNothingLeft(scratch, pgRestores);
      const messages = await inbox.messages({ expect: 1 });
      expect(messages).toHaveLength(1);
      expect(messages[0]?.subject).toBe('pgmaint FAILED restore prod');
      expect(messages[0]?.message).toContain(`stopped by ${signal}`);
    });
  }

  it('SIGTERM during a replace: the live database stays, the restored copy is dropped, nothing is kept', async () => {
    const run = startRestore(['--config', config(), '--target', 'prod', '--replace', '--confirm', prod.name]);
    const scratch = await restoringInto();
    expect(scratch).not.toBe(prod.name);
    const pgRestores = pgRestoreChildren(run.pid);
    run.child.kill('SIGTERM');
    const exit = await run.stopped('SIGTERM');
    expect(exit, run.stderr()).toEqual({ code: 143, signal: null });
    await expectNothingLeft(scratch, pgRestores);
  });

  it('SIGTERM mid-download: the download is closed, its local copy removed, no database created', async () => {
    const tmp = testTempDir('restore-stop-');
    proxy.holdReadsAfter(64 * 1024);
    try {
      const run = startRestore(['--config', config(), '--target', 'prod'], { TMPDIR: tmp });
      await until('the archive download to be held', async () => (proxy.readsHeld >= 1 ? true : undefined));
      expect(readdirSync(tmp).filter((f) => f.startsWith('pgmaint-restore.'))).toHaveLength(1);
      run.child.kill('SIGTERM');
      const exit = await run.stopped('SIGTERM');
      expect(exit, run.stderr()).toEqual({ code: 143, signal: null });
      expect(run.stderr()).toContain('stopped by SIGTERM');
      expect(proxy.readsClosedByClient).toBe(1);
      expect(readdirSync(tmp).filter((f) => f.startsWith('pgmaint-'))).toEqual([]);
      await expectNothingLeft(undefined, []);
    } finally {
      proxy.holdReadsAfter(undefined);
    }
  });

  it('SIGKILL mid-download leaves the download behind; the next run on the machine removes it first', async () => {
    const tmp = testTempDir('restore-kill-');
    proxy.holdReadsAfter(64 * 1024);
    try {
      const run = startRestore(['--config', config(), '--target', 'prod'], { TMPDIR: tmp });
      await until('the archive download to be held', async () => (proxy.readsHeld >= 1 ? true : undefined));
      // What a Lambda timeout or the OOM killer does: no handler runs, nothing is cleaned up.
      run.child.kill('SIGKILL');
      expect(await run.stopped('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      proxy.holdReadsAfter(undefined);
    }
    const left = readdirSync(tmp).filter((f) => f.startsWith('pgmaint-restore.'));
    expect(left).toHaveLength(1);

    const next = await execFileAsync(
      process.execPath,
      [BIN, 'health', '--config', config(), '--target', 'prod', '--check', 'connection', '--verbose'],
      { env: { ...process.env, TMPDIR: tmp } },
    );

    expect(next.stderr).toContain('removed 1 scratch directory left by pgmaint runs that were killed');
    expect(readdirSync(tmp).filter((f) => f.startsWith('pgmaint-'))).toEqual([]);
    await expectNothingLeft(undefined, []);
  });

  it('a swap cut off between its two renames leaves the live database under its name', async () => {
    const live = await createTestDatabase('swap_live');
    const restored = await createTestDatabase('swap_restored');
    await live.sql("create table which (name text); insert into which values ('live')");
    await restored.sql("create table which (name text); insert into which values ('restored')");
    const kept = `${live.name}_kept`;
    const admin = new Client({ connectionString: adminUrl('postgres') });
    await admin.connect();
    admin.on('error', () => {});
    const pid = (await admin.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
    // The process running the swap dies right after the first rename (SIGKILL, a lost sandbox):
    // its server session goes with it, before the second rename.
    const query = admin.query.bind(admin) as (text: string, values?: unknown[]) => Promise<unknown>;
    const dying = Object.assign(Object.create(admin) as Client, {
      query: async (text: string, values?: unknown[]) => {
        const done = await query(text, values);
        if (/rename to/.test(text) && text.includes(kept))
          await withAdmin((c) => c.query('select pg_terminate_backend($1)', [pid]));
        return done;
      },
    });
    try {
      await expect(
        swapDatabases(dying, { live: live.name, restored: restored.name, kept }),
      ).rejects.toThrow();
      expect(await live.sql('select name from which')).toEqual([{ name: 'live' }]);
      expect(await restored.sql('select name from which')).toEqual([{ name: 'restored' }]);
      expect(await databasesLike(kept)).toEqual([]);
    } finally {
      await admin.end().catch(() => {});
      await live.drop();
      await restored.drop();
      await withAdmin((c) => c.query(`drop database if exists "${kept}" with (force)`));
    }
  });
});
