import { describe, expect, it } from 'vitest';
import { excludePatternProblem, patternRegex } from '../../functions/backup/exclude-patterns';
import { backupsToPrune, deleteBackups } from '../../functions/backup/prune-backups';
import { planDatabases } from '../../functions/backup/server-backup';
import { JOB_MANIFESTS } from '../../functions/manifests';
import { listBackups, resolveBackup } from '../../functions/shared/backup-catalog';
import { refuseSeveralDatabases } from '../../functions/shared/config/databases';
import { parseConfig } from '../../functions/shared/config/load';
import { ConfigError, RequestRefusedError } from '../../functions/shared/errors';
import { fileStore } from '../../functions/shared/store';
import {
  type BackupManifest,
  backupKey,
  databaseSegment,
  manifestKey,
  newestKeyFirst,
  parseBackupKey,
  serverGlobalsKey,
  storedJson,
} from '../../functions/shared/store/layout';
import { testEvents } from '../../lib/console-test-events';
import { configSlice } from '../../lib/job-settings';
import { testTempDir } from '../helpers/temp-dirs';

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const server = (target: Record<string, unknown>) => ({
  backupBucket: 'my-backups',
  targets: { db1: { url: 'postgres://pgmaint@db1.internal/postgres', ...target } },
});

describe('backup keys', () => {
  it('have millisecond resolution: two backups started within one second get two keys', () => {
    const first = backupKey('prod', new Date('2026-12-01T02:00:00.120Z'));
    const second = backupKey('prod', new Date('2026-12-01T02:00:00.870Z'));
    expect(first).toBe('prod/2026/12/01/prod-20261201T020000120Z.dump');
    expect(second).not.toBe(first);
  });

  it.each([
    ['prod/2026/01/01/prod-20260101T020000Z.dump', 'prod', undefined, '2026-01-01T02:00:00.000Z', 'custom'],
    [
      'prod/2026/01/01/prod-20260101T020000250Z.dir',
      'prod',
      undefined,
      '2026-01-01T02:00:00.250Z',
      'directory',
    ],
    [
      'prod-eu/2026/01/01/prod-eu-20260101T020000Z.dump',
      'prod-eu',
      undefined,
      '2026-01-01T02:00:00.000Z',
      'custom',
    ],
    [
      'db1/databases/app/2026/01/01/db1-app-20260101T020000250Z.dump',
      'db1',
      'app',
      '2026-01-01T02:00:00.250Z',
      'custom',
    ],
  ])('parses %s (old second-resolution keys too)', (key, target, database, startedAt, format) => {
    const facts = parseBackupKey(key);
    expect(facts).toEqual({
      target,
      ...(database ? { database } : {}),
      startedAt: new Date(startedAt),
      format,
    });
  });

  it('parses what it writes back, for any database name', () => {
    for (const name of ['app', 'Billing 2026', 'a/b', '..', 'café', 'x%y', 'data-base_1']) {
      const at = new Date('2026-03-29T00:59:59.999Z');
      const key = backupKey('db1', at, name);
      expect(key.startsWith(`db1/databases/${databaseSegment(name)}/2026/03/29/`)).toBe(true);
      expect(key.split('/')).not.toContain('..');
      expect(parseBackupKey(key)).toEqual({ target: 'db1', database: name, startedAt: at, format: 'custom' });
    }
  });

  it('does not take a key pgmaint does not write for a backup', () => {
    expect(parseBackupKey('prod/2026/01/01/notes.txt')).toBeUndefined();
    expect(parseBackupKey(serverGlobalsKey('db1', new Date()))).toBeUndefined();
    expect(parseBackupKey('prod/2026/01/01/prod-20260101T020000Z.dump.manifest.json')).toBeUndefined();
  });

  it('sorts newest first by time, across old and new key formats and across databases', () => {
    const keys = [
      'prod/2026/01/01/prod-20260101T020000Z.dump',
      'prod/databases/zeta/2026/01/01/prod-zeta-20260101T010000000Z.dump',
      'prod/2026/01/01/prod-20260101T020001500Z.dump',
      'prod/databases/alpha/2026/01/02/prod-alpha-20260102T000000000Z.dump',
      'prod/2026/01/01/prod-20260101T020001400Z.dir',
    ];
    expect([...keys].sort(newestKeyFirst)).toEqual([
      'prod/databases/alpha/2026/01/02/prod-alpha-20260102T000000000Z.dump',
      'prod/2026/01/01/prod-20260101T020001500Z.dump',
      'prod/2026/01/01/prod-20260101T020001400Z.dir',
      'prod/2026/01/01/prod-20260101T020000Z.dump',
      'prod/databases/zeta/2026/01/01/prod-zeta-20260101T010000000Z.dump',
    ]);
  });
});

describe('pg_dump exclude patterns', () => {
  it.each([
    ['audit_log', 'table', { schema: null, name: '^(audit_log)$' }],
    ['Audit*', 'table', { schema: null, name: '^(audit.*)$' }],
    ['"Audit"', 'table', { schema: null, name: '^(Audit)$' }],
    ['logs.*', 'table', { schema: '^(logs)$', name: '^(.*)$' }],
    ['"my.schema".t?', 'table', { schema: '^(my\\.schema)$', name: '^(t.)$' }],
    ['price$', 'table', { schema: null, name: '^(price\\$)$' }],
    ['"a""b"', 'table', { schema: null, name: '^(a"b)$' }],
    ['scratch_*', 'schema', { schema: null, name: '^(scratch_.*)$' }],
  ] as const)('%s (%s) matches as pg_dump matches it', (pattern, kind, expected) => {
    expect(excludePatternProblem(pattern, kind)).toBeUndefined();
    expect(patternRegex(pattern, kind)).toEqual(expected);
  });

  it.each([
    ['', 'table', 'empty'],
    ['  ', 'schema', 'empty'],
    ['a\nb', 'table', 'control characters'],
    ['--verbose', 'table', 'cannot start with "-"'],
    ['"open', 'table', 'not closed'],
    ['a.b', 'schema', 'no dots'],
    ['db.s.t', 'table', '"schema.table"'],
    ['s.', 'table', 'empty'],
  ] as const)('refuses %j as a %s pattern', (pattern, kind, problem) => {
    expect(excludePatternProblem(pattern, kind)).toContain(problem);
  });
});

describe('which databases a target with "databases" backs up', () => {
  const onServer = [
    { name: 'app', allows_connections: true, is_template: false },
    { name: 'billing', allows_connections: true, is_template: false },
    { name: 'postgres', allows_connections: true, is_template: false },
    { name: 'template0', allows_connections: false, is_template: true },
    { name: 'template1', allows_connections: true, is_template: true },
    { name: 'closed', allows_connections: false, is_template: false },
  ];

  it('"*": every database that accepts connections and is no template, minus exclude', () => {
    expect(planDatabases({ databases: '*', exclude: ['postgres'] }, onServer)).toEqual({
      names: ['app', 'billing'],
      missing: [],
      excluded: ['postgres'],
    });
  });

  it('"*" leaves out the databases managed services keep for themselves; a list may still name one', () => {
    const rds = [...onServer, { name: 'rdsadmin', allows_connections: true, is_template: false }];
    expect(planDatabases({ databases: '*' }, rds).names).toEqual(['app', 'billing', 'postgres']);
    expect(planDatabases({ databases: ['rdsadmin'] }, rds).names).toEqual(['rdsadmin']);
  });

  it('a list: those named; one missing or closed to connections is a failure, not skipped', () => {
    const plan = planDatabases({ databases: ['billing', 'gone', 'closed'] }, onServer);
    expect(plan.names).toEqual(['billing']);
    expect(plan.missing.map((m) => [m.database, m.error])).toEqual([
      ['gone', 'no such database on the server'],
      ['closed', 'the database does not accept connections (datallowconn is false)'],
    ]);
  });
});

describe('config of databases and excludes', () => {
  it('accepts "*" with exclude, a list, and the backup excludes', () => {
    const config = parseConfig(
      server({
        databases: '*',
        exclude: ['postgres'],
        backup: {
          excludeSchemas: ['scratch'],
          excludeTables: ['public.tmp_*'],
          excludeTableData: ['audit_log'],
        },
      }),
    );
    expect(config.targets.db1?.databases).toBe('*');
    expect(config.targets.db1?.backup?.excludeTableData).toEqual(['audit_log']);
    expect(problemsOf(server({ databases: ['app', 'billing'] }))).toEqual([]);
  });

  it.each([
    [{ databases: '*', dbname: 'app' }, 'targets.db1.dbname', 'not both'],
    [{ url: 'postgres://pgmaint@db1.internal/app', dbname: 'other' }, 'targets.db1.dbname', 'both ways'],
    [{ exclude: ['x'] }, 'targets.db1.exclude', 'this target backs up one database'],
    [{ databases: ['a'], exclude: ['x'] }, 'targets.db1.exclude', 'leave the databases out of the list'],
    [{ databases: [] }, 'targets.db1.databases', 'at least one'],
    [{ databases: ['a', 'a'] }, 'targets.db1.databases', 'named twice'],
    [{ databases: 'all' }, 'targets.db1.databases', '"*" (every database)'],
    [{ databases: '*', retention: { rules: [] } }, 'targets.db1.retention', '"dbname": "<database>"'],
    [{ databases: '*', health: {} }, 'targets.db1.health', 'add a target per database'],
    [{ databases: '*', reindex: {} }, 'targets.db1.reindex', 'a target of its own'],
    [
      { databases: '*', restore: { drill: { schedule: 'rate(7 days)' } } },
      'targets.db1.restore.drill.schedule',
      '--database',
    ],
    [{ backup: { excludeTables: [''] } }, 'targets.db1.backup.excludeTables[0]', 'empty'],
    [{ backup: { excludeSchemas: ['a.b'] } }, 'targets.db1.backup.excludeSchemas[0]', 'no dots'],
    [
      { backup: { excludeTableData: 'audit' } },
      'targets.db1.backup.excludeTableData',
      'list of table patterns',
    ],
  ])('refuses %j at %s', (target, path, message) => {
    const problems = problemsOf(server(target));
    expect(
      problems.some((p) => p.startsWith(path) && p.includes(message)),
      problems.join('\n'),
    ).toBe(true);
  });

  describe('health on a target with "databases": the refusal says what to write instead', () => {
    const withSecret = (extra: Record<string, unknown>) => ({
      backupBucket: 'my-backups',
      targets: { db1: { secret: 'db1/pgmaint', databases: ['app', 'billing'], backup: {}, ...extra } },
    });
    /** The example target the message shows, as JSON. */
    const example = (message: string) => {
      const json = /"targets": (\{.*\}), and keep/.exec(message)?.[1];
      expect(json, message).toBeDefined();
      return JSON.parse(json ?? '{}') as Record<string, Record<string, unknown>>;
    };
    const SERVER_WIDE = ['connections', 'replication_lag', 'wal_files', 'checkpoints', 'xid_wraparound'];

    it("shows a per-database target with this target's secret and one of its databases, and the config it suggests is valid", () => {
      const problems = problemsOf(withSecret({ health: { schedule: 'rate(5 minutes)' } }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^targets\.db1\.health: health checks one database and this target names several/,
      );
      const suggested = example(problems[0] ?? '');
      expect(suggested).toEqual({
        '<name>-app': { secret: 'db1/pgmaint', dbname: 'app', health: { schedule: 'rate(15 minutes)' } },
      });
      // Written as told: the server target keeps the backup, one target per database checks it, and
      // the server-wide checks are graded on the first only.
      const ungraded = Object.fromEntries(
        SERVER_WIDE.map((check) => [check, { warning: null, critical: null }]),
      );
      const second = { ...suggested['<name>-app'], dbname: 'billing', health: { thresholds: ungraded } };
      expect(problems[0]).toContain(SERVER_WIDE.slice(0, 4).join(', '));
      expect(
        problemsOf({
          backupBucket: 'my-backups',
          targets: { ...withSecret({}).targets, 'db1-app': suggested['<name>-app'], 'db1-billing': second },
        }),
      ).toEqual([]);
    });

    it('with a url, says to name the database in it, and never prints the url (it may hold a password)', () => {
      const problems = problemsOf(
        server({ url: 'postgres://pgmaint:s3cret@db1.internal/postgres', databases: '*', health: {} }),
      );
      expect(problems[0]).toContain('"url": "<the same url, naming database app>"');
      expect(problems.join('\n')).not.toContain('s3cret');
    });

    it('run anyway (no health section, `pgmaint health --target db1`), names the target in the example', () => {
      let refusal: unknown;
      try {
        refuseSeveralDatabases('health', 'db1', { secret: 'db1/pgmaint', databases: ['billing'] });
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(RequestRefusedError);
      const message = (refusal as Error).message;
      expect(message).toMatch(/^health checks one database and target "db1" names several/);
      expect(example(message)).toEqual({
        'db1-billing': { secret: 'db1/pgmaint', dbname: 'billing', health: { schedule: 'rate(15 minutes)' } },
      });
      expect(message).toMatch(/; nothing was done$/);
    });
  });

  it('a target naming the same database both ways is fine', () => {
    expect(problemsOf(server({ url: 'postgres://pgmaint@db1.internal/app', dbname: 'app' }))).toEqual([]);
  });
});

describe('deployed, a target with "databases"', () => {
  const config = parseConfig({
    backupBucket: 'my-backups',
    targets: {
      srv: { secret: 'db1/pgmaint', databases: ['app', 'billing'], backup: {} },
      all: { secret: 'db2/pgmaint', databases: '*', exclude: ['rdsadmin'], backup: {} },
      staging: { secret: 'db3/pgmaint', dbname: 'app_staging', backup: {} },
    },
  });

  it("carries its databases (and a target's dbname) in every job's config", () => {
    for (const manifest of Object.values(JOB_MANIFESTS)) {
      const slice = configSlice(config, manifest) as { targets: Record<string, Record<string, unknown>> };
      expect(slice.targets.srv).toMatchObject({ databases: ['app', 'billing'] });
      expect(slice.targets.all).toMatchObject({ databases: '*', exclude: ['rdsadmin'] });
      expect(slice.targets.staging).toMatchObject({ dbname: 'app_staging' });
    }
  });

  it('gets console examples only for what works on it, each naming a database', () => {
    const events = testEvents(config);
    for (const job of ['health', 'retention', 'reindex'] as const) {
      expect(Object.values(events[job]).map((e) => e.target)).toEqual(['staging']);
    }
    expect(events.restore['srv-restore-latest-into-new-database']).toEqual({
      target: 'srv',
      backup: 'latest',
      database: 'app',
    });
    expect(events.restore['refresh-staging-from-srv']).toEqual({
      target: 'staging',
      from: 'srv',
      backup: 'latest',
      database: 'app',
    });
    // "*" names no database that synth could know.
    expect(Object.keys(events.restore).filter((name) => name.startsWith('all-'))).toEqual([]);
  });
});

describe('backups stored under keys of earlier versions', () => {
  const manifest = (key: string, startedAt: string, database = 'app'): BackupManifest => ({
    formatVersion: 1,
    target: 'prod',
    database,
    key,
    startedAt,
    finishedAt: startedAt,
    durationMs: 1,
    bytes: 1,
    sha256: 'ab',
    serverVersion: '15.4',
    serverVersionNum: 150004,
    pgDumpVersion: '18.1',
    archiveVersion: '1.16.0',
    compression: 'zstd:3',
    databaseSizeBytes: 1,
    tables: [],
    rowCountsExact: false,
  });

  it('list, resolve as latest and prune in time order with millisecond keys', async () => {
    const store = fileStore(testTempDir('keys-'));
    // As text the old key sorts after the new one of the same second; in time it is older.
    const old = 'prod/2026/01/01/prod-20260101T020000Z.dump';
    const newer = backupKey('prod', new Date('2026-01-01T02:00:00.500Z'));
    const oldest = 'prod/2025/12/01/prod-20251201T020000Z.dump';
    await store.put(old, 'PGDMP');
    await store.put(manifestKey(old), storedJson(manifest(old, '2026-01-01T02:00:00Z')));
    await store.put(manifestKey(newer), storedJson(manifest(newer, '2026-01-01T02:00:00.500Z')));
    await store.put(oldest, 'PGDMP');
    await store.put(manifestKey(oldest), storedJson(manifest(oldest, '2025-12-01T02:00:00Z')));

    const listed = await listBackups(store, 'prod', () => {});
    expect(listed.map((b) => b.key)).toEqual([newer, old, oldest]);
    expect((await resolveBackup(store, 'prod', 'latest')).key).toBe(newer);
    expect((await resolveBackup(store, 'prod', old)).key).toBe(old);

    const policy = { retentionDays: 1, keepAtLeast: 2 };
    const expired = backupsToPrune(listed, policy, new Date('2026-03-01T00:00:00Z'));
    expect(expired.map((b) => b.key)).toEqual([oldest]);
    await deleteBackups(store, expired);
    expect((await listBackups(store, 'prod', () => {})).map((b) => b.key)).toEqual([newer, old]);
    expect(await store.get(oldest)).toBeUndefined();
  });

  it("picks one database's latest among every database's backups", async () => {
    const store = fileStore(testTempDir('keys-'));
    const app = backupKey('db1', new Date('2026-01-01T02:00:00Z'), 'app');
    const billing = backupKey('db1', new Date('2026-01-01T02:00:05Z'), 'billing');
    await store.put(
      manifestKey(app),
      storedJson({ ...manifest(app, '2026-01-01T02:00:00Z'), target: 'db1' }),
    );
    await store.put(
      manifestKey(billing),
      storedJson({ ...manifest(billing, '2026-01-01T02:00:05Z', 'billing'), target: 'db1' }),
    );
    expect((await resolveBackup(store, 'db1', 'latest', 'app')).key).toBe(app);
    expect((await resolveBackup(store, 'db1', 'latest')).key).toBe(billing);
    await expect(resolveBackup(store, 'db1', 'latest', 'gone')).rejects.toThrow('of database "gone"');
  });
});
