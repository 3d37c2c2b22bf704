import { describe, expect, it } from 'vitest';
import { HEALTH_CHECKS } from '../../functions/health/checks';
import { reindexAdvice } from '../../functions/health/checks/bloat';
import { renderHealth } from '../../functions/health/render';
import { evaluate, limitsFor, parseThreshold, resolveThresholds } from '../../functions/health/thresholds';
import { parseConfig } from '../../functions/shared/config/load';
import { ConfigError } from '../../functions/shared/errors';

/** Everything the loader refuses, as `path: message` lines. */
function problemsOf(target: Record<string, unknown>): readonly string[] {
  try {
    parseConfig({ targets: { prod: { url: 'postgres://h/db', ...target } } });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config checks that need no database (validate, synth, CLI and Lambda share them)', () => {
  it('refuses restore.drillSchedule with the line to write instead, and a drill rto or pick it cannot use', () => {
    expect(problemsOf({ restore: { drillSchedule: 'cron(0 5 ? * SAT *)' } })).toEqual([
      'targets.prod.restore.drillSchedule: replaced by restore.drill.schedule: write "drill": { "schedule": "cron(0 5 ? * SAT *)" } instead (add "rto" to time each drill against your recovery time objective)',
    ]);
    expect(problemsOf({ restore: { drill: { rto: '30 mins', pick: 'oldest' } } })).toEqual([
      'targets.prod.restore.drill.rto: expected an interval like "90 days" (units: seconds, minutes, hours, days, weeks), got "30 mins"',
      'targets.prod.restore.drill.pick: expected "latest" or "random"',
    ]);
    expect(
      problemsOf({
        restore: { drill: { schedule: 'cron(0 5 ? * SAT *)', rto: '30 minutes', pick: 'random' } },
      }),
    ).toEqual([]);
    expect(problemsOf({ report: { schedule: 'weekly' } })).toEqual([
      expect.stringMatching(/^targets\.prod\.report\.schedule: /),
    ]);
  });

  it('refuses an unknown health check, a threshold without a known unit and an injected table, all at once', () => {
    const problems = problemsOf({
      health: {
        thresholds: { backup_freshnes: { warning: '25 hours' }, backup_freshness: { critical: '25h' } },
      },
      retention: {
        rules: [
          { table: 'audit_logs', column: 'created_at', olderThan: '90 days' },
          { table: 'sessions', column: 'expires_at', olderThan: '1 day' },
          { table: 'audit_logs; drop table users', column: 'created_at', olderThan: '90 days' },
        ],
      },
    });
    expect(problems).toEqual([
      'targets.prod.retention.rules[2].table: "audit_logs; drop table users" is not a table name: write [schema.]table, e.g. audit_logs or public.audit_logs (letters, digits, _ and $, starting with a letter or _; double-quote any other name, e.g. "Audit Logs")',
      expect.stringMatching(
        /^targets\.prod\.health\.thresholds\.backup_freshnes: unknown check \(known: connection, connections, .*backup_freshness/,
      ),
      'targets.prod.health.thresholds.backup_freshness.critical: expected a duration like "5 minutes" or "100 ms" (units: ms, seconds, minutes, hours, days, weeks) or null, got "25h"',
    ]);
  });

  it.each([
    ['audit_logs', true],
    ['public.audit_logs', true],
    ['"Audit Logs"', true],
    ['billing."Invoice ""Lines"""', true],
    ['_t$1', true],
    ['audit_logs; drop table users', false],
    ['public.', false],
    ['a.b.c', false],
    ['"unterminated', false],
    ['1abc', false],
    [' audit_logs', false],
    [`t${'x'.repeat(63)}`, false],
  ])('table %j accepted=%s', (table, ok) => {
    const problems = problemsOf({
      retention: { rules: [{ table, column: 'created_at', olderThan: '1 day' }] },
    });
    expect(problems.length === 0, problems.join('\n')).toBe(ok);
  });

  it('checks column and where names, and which rule fields go together', () => {
    const problems = problemsOf({
      retention: {
        rules: [
          { table: 't', column: 'created_at) or (true', olderThan: '1 day' },
          { table: 't', column: '"Created At"', olderThan: '1 day', where: { 'is_read = true --': true } },
          { table: 't', olderThan: '1 day' },
          { table: 't', partitions: true, olderThan: '1 day', where: { kind: 'x' }, maxRowsPerRun: 5 },
          { table: 't', column: 'at', olderThan: '1 day', premake: 2 },
          { table: 't', column: 'at', olderThan: '2 months' },
        ],
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^targets\.prod\.retention\.rules\[0\]\.column: "created_at\) or \(true" is not a column name/,
      ),
      expect.stringMatching(
        /^targets\.prod\.retention\.rules\[1\]\.where\.is_read = true --: "is_read = true --" is not a column name/,
      ),
      'targets.prod.retention.rules[2].column: "column" is required: the timestamp or date column that ages the rows',
      'targets.prod.retention.rules[3].where: "where" cannot be used with "partitions": whole partitions are dropped',
      'targets.prod.retention.rules[3].maxRowsPerRun: "maxRowsPerRun" cannot be used with "partitions": whole partitions are dropped',
      'targets.prod.retention.rules[4].premake: "premake" needs "partitions": true',
      'targets.prod.retention.rules[5].olderThan: expected an interval like "90 days" (units: seconds, minutes, hours, days, weeks), got "2 months"',
    ]);
  });

  it('names the unit a plain number needs, and sizes state their units', () => {
    expect(
      problemsOf({
        health: {
          thresholds: {
            long_running_queries: { warning: 300 },
            dead_tuples: { warning: 20 },
            database_size: { critical: 10 },
            table_bloat: { minSize: '10 megs' },
          },
        },
      }),
    ).toEqual([
      'targets.prod.health.thresholds.table_bloat.minSize: expected a size like "100 MB" (units: B, kB, MB, GB, TB), got "10 megs"',
      'targets.prod.health.thresholds.long_running_queries.warning: a plain number has no unit here: write "300 seconds" or "300 ms" (or null)',
      'targets.prod.health.thresholds.dead_tuples.warning: a plain number has no unit here: write "20%" (or null)',
      'targets.prod.health.thresholds.database_size.critical: a plain number has no unit here: write "10 MB" (or null)',
    ]);
  });
});

describe('health thresholds that can never show', () => {
  it('refuses a warning at or past its critical, naming a default when that is the other side', () => {
    expect(
      problemsOf({
        health: {
          thresholds: {
            long_running_queries: { warning: '1 hour', critical: '10 minutes' },
            connections: { warning: '96%' },
            cache_hit_ratio: { warning: '90%', critical: '95%' },
            idle_in_transaction: { warning: '1 hour', critical: null },
            dead_tuples: { warning: '20%', critical: '20%' },
          },
        },
      }),
    ).toEqual([
      'targets.prod.health.thresholds.long_running_queries: warning "1 hour" must be below critical "10 minutes", or the warning never shows',
      'targets.prod.health.thresholds.connections: warning "96%" must be below critical "95%" (the default), or the warning never shows',
      'targets.prod.health.thresholds.cache_hit_ratio: warning "90%" must be above critical "95%", or the warning never shows',
      'targets.prod.health.thresholds.dead_tuples: warning "20%" must be below critical "20%", or the warning never shows',
    ]);
  });
});

describe('time zones: IANA names only', () => {
  it.each([
    [
      'BST',
      /"BST" is an abbreviation, not a time zone \(it would be read as Asia\/Dhaka\): use a zone name such as "Europe\/London"/,
    ],
    ['EST', /"EST" is an abbreviation.*"America\/New_York"/],
    ['PST', /"America\/Los_Angeles"/],
    ['CEST', /"Europe\/Paris"/],
    ['GMT+6', /"GMT\+6" is a fixed offset/],
    ['UTC+02:00', /fixed offset/],
    ['Etc/GMT+6', /fixed offset: it ignores daylight saving time and POSIX reverses its sign/],
    ['US/Eastern', /"US\/Eastern" is a legacy alias: use "America\/New_York"/],
    ['Zulu', /write "UTC"/],
    ['europe/london', /write "Europe\/London"/],
    ['Mars/Olympus', /is not a time zone/],
  ])('refuses %s, saying what to write', (timezone, message) => {
    const problems = problemsOf({ timezone });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^targets\.prod\.timezone: /);
    expect(problems[0]).toMatch(message);
  });

  it.each([
    'UTC',
    'Etc/UTC',
    'Europe/London',
    'America/New_York',
    'Asia/Kolkata',
    'Europe/Kyiv',
    'America/Argentina/Buenos_Aires',
  ])('accepts %s', (timezone) => {
    expect(problemsOf({ timezone })).toEqual([]);
  });
});

describe('connections thresholds: a number is a count, "50%" a share', () => {
  it('parses a plain number as connections and a percentage as a share of the usable slots', () => {
    const { thresholds } = resolveThresholds(
      HEALTH_CHECKS,
      { health: { thresholds: { connections: { warning: 50, critical: '95%' } } } },
      'prod',
    );
    const parsed = thresholds.get('connections')?.parsed;
    expect(parsed).toMatchObject({ warning: 50, critical: 95, share: { warning: false, critical: true } });
    if (!parsed) throw new Error('no connections thresholds');
    // 60 of 100 usable connections: over the count of 50, under 95% of 100.
    expect(evaluate(60, limitsFor(parsed, 100))).toBe('warning');
    // 40 connections of 50 usable: 80%, but under the count of 50.
    expect(evaluate(40, limitsFor(parsed, 50))).toBe('ok');
    expect(evaluate(48, limitsFor(parsed, 50))).toBe('critical');
    expect(parseThreshold('count-or-share', 'count', '50')).toBe(50);
  });

  it('the human table shows each check thresholds', () => {
    const text = renderHealth({
      target: 'prod',
      status: 'warning',
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 12,
      checks: [
        {
          name: 'connections',
          status: 'warning',
          value: 60,
          unit: 'count',
          thresholds: { warning: '50', critical: '95%' },
          message: '60 of 100 connections in use (60%)',
          details: {},
          recommendation: 'use a pooler',
        },
        {
          name: 'duplicate_indexes',
          status: 'ok',
          value: 0,
          unit: 'count',
          thresholds: { warning: null, critical: null },
          message: 'none',
          details: {},
          recommendation: null,
        },
      ],
    });
    const lines = text.split('\n');
    // The plugin line: a count limit in the perfdata, none for a share of max_connections.
    expect(lines[0]).toBe(
      "PGMAINT WARNING - connections: 60 of 100 connections in use (60%) | 'connections'=60;50;;0; 'duplicate_indexes'=0;;;0;",
    );
    expect(lines[3]).toMatch(/^STATUS\s+CHECK\s+VALUE\s+THRESHOLDS\s+MESSAGE$/);
    expect(lines[4]).toMatch(/^warning\s+connections\s+60\s+warn 50 crit 95%\s+60 of 100 connections in use/);
    expect(lines[5]).toMatch(/^ok\s+duplicate_indexes\s+0\s+-\s+none$/);
  });
});

describe("index_bloat: one size floor, the reindex job's", () => {
  const floorOf = (target: Parameters<typeof resolveThresholds>[1]) =>
    resolveThresholds(HEALTH_CHECKS, target, 'prod').thresholds.get('index_bloat')?.parsed.minSizeBytes;

  it("takes the reindex job's minSize (default 100 MB) unless health sets its own", () => {
    expect(floorOf({})).toBe(100 * 1024 ** 2);
    const config = parseConfig({
      targets: { prod: { url: 'postgres://h/db', reindex: { minSize: '250 MB' } } },
    });
    expect(floorOf(config.targets.prod)).toBe(250 * 1024 ** 2);
    expect(
      floorOf({
        reindex: config.targets.prod?.reindex,
        health: { thresholds: { index_bloat: { minSize: '1 MB' } } },
      }),
    ).toBe(1024 ** 2);
  });

  it('says what to run: the job when it will rebuild the index, the statement when it will not', () => {
    const index = { schema: 'public', index: 'Orders_pk', bytes: 55 * 1024 ** 2, bloatPercent: 60 };
    const reindex = parseConfig({
      targets: { prod: { url: 'postgres://h/db', reindex: { schedule: 'cron(0 4 ? * SUN *)' } } },
    }).targets.prod?.reindex;
    expect(reindexAdvice(index, { reindex }, 'prod')).toBe(
      `public.Orders_pk (55 MB) is below the reindex job's floor (targets.prod.reindex.minSize, 100 MB), so no job rebuilds it: run REINDEX INDEX CONCURRENTLY "public"."Orders_pk", or lower targets.prod.reindex.minSize.`,
    );
    const big = { ...index, bytes: 200 * 1024 ** 2 };
    expect(reindexAdvice(big, { reindex }, 'prod')).toBe(
      'The reindex job (cron(0 4 ? * SUN *)) rebuilds it at its next run, worst first; to do it now, run `pgmaint reindex --target prod`.',
    );
    expect(reindexAdvice(big, {}, 'prod')).toContain(
      'No reindex schedule is set for this target: run `pgmaint reindex --target prod`',
    );
    expect(reindexAdvice({ ...big, bloatPercent: 20 }, { reindex }, 'prod')).toContain(
      "under the reindex job's minBloat (targets.prod.reindex.minBloat, 30%)",
    );
  });
});

describe('backup.copies and parallel backups', () => {
  it('accepts copies of parallel (directory-format) backups as of one-stream ones', () => {
    const config = (backup: Record<string, unknown>) => ({
      targets: { prod: { url: 'postgres://u:p@h/db', backup } },
    });
    const copies = [{ bucket: 'dr-copies', region: 'eu-central-1' }];
    for (const jobs of [undefined, 'auto', 1, 4])
      expect(() => parseConfig(config({ copies, ...(jobs === undefined ? {} : { jobs }) }))).not.toThrow();
  });
});
