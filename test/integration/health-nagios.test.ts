import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBinary, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';

/** `'name'=value[UOM];warn;crit;min;max` pairs of a plugin line's perfdata, by name. */
function perfdataOf(line: string): Map<string, string> {
  const data = line.split(' | ')[1] ?? '';
  return new Map(
    [...data.matchAll(/'([a-z_]+)'=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? ''] as [string, string]),
  );
}

/** `pgmaint health` as Nagios runs it: a process, its first stdout line, its exit code. */
describe('pgmaint health as a Nagios plugin (the CLI as a process)', () => {
  let db: TestDatabase;
  let config: string;

  beforeAll(async () => {
    db = await createTestDatabase('health_nagios');
    config = writeConfig({
      targets: { t: { url: db.url, health: { thresholds: UNGRADED_SERVER_WIDE } } },
    });
  });
  afterAll(async () => db?.drop());

  const health = (...flags: string[]) => runBinary(['health', '--config', config, '--target', 't', ...flags]);

  it('OK: the first line, then the table; perfdata for every value in B, s and %', async () => {
    const out = await health();
    expect(out.code, out.stderr).toBe(0);
    const [first] = out.stdout.split('\n');
    expect(first).toMatch(/^PGMAINT OK - \d+ check\(s\) ok, \d+ skipped \| /);
    expect(first?.split('|')).toHaveLength(2);
    const data = perfdataOf(first ?? '');
    expect(data.get('connection')).toMatch(/^[\d.]+s;1;;0;$/);
    expect(data.get('database_size')).toMatch(/^\d+B;5368709120;10737418240;0;$/);
    expect(data.get('dead_tuples')).toMatch(/^[\d.]+%;20;100;0;100$/);
    expect(data.get('idle_in_transaction')).toMatch(/^[\d.]+s;300;1800;0;$/);
    // A share of max_connections cannot be printed as a count limit: left empty.
    expect(data.get('connections')).toMatch(/^\d+;;;0;$/);
  });

  it('WARNING: the worst check and its message first, "|" in names escaped, exit 1', async () => {
    await db.sql(`
      create table "pipe|table" (id int);
      create function nagios_noop() returns trigger language plpgsql as $$ begin return new; end $$;
      create trigger audit before insert on "pipe|table" for each row execute function nagios_noop();
      alter table "pipe|table" disable trigger audit;
    `);
    const out = await health();
    expect(out.code).toBe(1);
    const [first] = out.stdout.split('\n');
    expect(first).toMatch(
      /^PGMAINT WARNING - disabled_triggers: 1 disabled trigger\(s\): audit on public\.pipe¦table \| /,
    );
    expect(first?.split('|')).toHaveLength(2);
    expect(perfdataOf(first ?? '').get('disabled_triggers')).toBe('1;1;;0;');
  });

  it('--check runs only the named checks, with the config thresholds', async () => {
    const one = await health('--check', 'connection');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.split('\n')[0]).toMatch(/^PGMAINT OK - 1 check\(s\) ok \| 'connection'=[\d.]+s;1;;0;$/);
    const two = await health('--check', 'connection,disabled_triggers', '--json');
    expect(two.code).toBe(1);
    expect(JSON.parse(two.stdout).checks.map((c: { name: string }) => c.name)).toEqual([
      'connection',
      'disabled_triggers',
    ]);
    const unknown = await health('--check', 'conection');
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toMatch(/^PGMAINT UNKNOWN - invalid input: .*unknown check "conection"/);
  });

  it('CRITICAL: a check past its critical threshold from the config, under --check, exit 2', async () => {
    const strict = writeConfig({
      targets: {
        t: { url: db.url, health: { thresholds: { connections: { warning: null, critical: 1 } } } },
      },
    });
    // The run's own session is one: at least the critical count.
    const out = await runBinary(['health', '--config', strict, '--target', 't', '--check', 'connections']);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stdout.split('\n')[0]).toMatch(
      /^PGMAINT CRITICAL - connections: \d+ of \d+ connections in use \([\d.]+%\) \| 'connections'=\d+;;1;0;$/,
    );
  });

  it('cannot connect: CRITICAL on the first line of stdout, exit 2', async () => {
    const unreachable = writeConfig({ targets: { t: { url: 'postgres://pgmaint@127.0.0.1:1/app' } } });
    const out = await runBinary(['health', '--config', unreachable, '--target', 't']);
    expect(out.code).toBe(2);
    expect(out.stdout.split('\n')[0]).toMatch(
      /^PGMAINT CRITICAL - cannot connect to pgmaint@127\.0\.0\.1:1\/app: /,
    );
  });

  it('usage errors are UNKNOWN (exit 3) with a first line on stdout; other commands keep exit 2', async () => {
    const unknownTarget = await runBinary(['health', '--config', config, '--target', 'nope']);
    expect(unknownTarget.code).toBe(3);
    expect(unknownTarget.stdout).toMatch(/^PGMAINT UNKNOWN - invalid input: .*"nope" is not in the config/);
    const unknownFlag = await health('--bogus');
    expect(unknownFlag.code).toBe(3);
    expect(unknownFlag.stdout).toMatch(/^PGMAINT UNKNOWN - Unknown option '--bogus'/);
    const noConfig = await runBinary(['health', '--target', 't'], {
      ...process.env,
      PGMAINT_CONFIG_FILE: '',
    });
    expect(noConfig.code).toBe(3);
    expect(noConfig.stdout).toMatch(/^PGMAINT UNKNOWN - no config file: /);
    const retention = await runBinary(['retention', '--config', config, '--target', 't', '--bogus']);
    expect(retention.code).toBe(2);
    expect(retention.stdout).toBe('');
  });
});
