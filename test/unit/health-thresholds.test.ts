import { describe, expect, it } from 'vitest';
import { type CheckResult, type CheckStatus, worstStatus } from '../../functions/health/check';
import { HEALTH_CHECKS } from '../../functions/health/checks';
import { countersSince } from '../../functions/health/checks/counters';
import { settingMatches } from '../../functions/health/checks/settings';
import { changeAlert, nextState, stateChanges } from '../../functions/health/state';
import {
  evaluate,
  parseThreshold,
  resolveThresholds,
  thresholdIssues,
} from '../../functions/health/thresholds';

const result = (name: string, status: CheckStatus): CheckResult => ({
  name,
  status,
  value: null,
  unit: null,
  thresholds: { warning: null, critical: null },
  message: `${name} is ${status}`,
  details: {},
  recommendation: status === 'ok' ? null : `fix ${name}`,
});

describe('health thresholds', () => {
  it.each([
    ['duration', 'seconds', '5 minutes', 300],
    ['duration', 'seconds', '100 ms', 0.1],
    ['duration', 'ms', '1 second', 1000],
    ['duration', 'ms', '250 ms', 250],
    ['percent', 'percent', '80%', 80],
    ['size', 'bytes', '5 GB', 5 * 1024 ** 3],
    ['count', 'count', '3', 3],
    ['count', 'count', 500_000_000, 500_000_000],
    ['duration', 'seconds', '5 parsecs', undefined],
    ['percent', 'percent', '120%', undefined],
    ['size', 'bytes', '5 minutes', undefined],
    ['count', 'count', -1, undefined],
  ] as const)('parses %s %s %j as %j', (kind, unit, raw, expected) => {
    expect(parseThreshold(kind, unit, raw)).toBe(expected);
  });

  it.each([
    [10, 20, 30, 'above', 'ok'],
    [20, 20, 30, 'above', 'warning'],
    [31, 20, 30, 'above', 'critical'],
    [31, null, null, 'above', 'ok'],
    [31, 1, null, 'above', 'warning'],
    [99.5, 99, 95, 'below', 'ok'],
    [98, 99, 95, 'below', 'warning'],
    [90, 99, 95, 'below', 'critical'],
  ] as const)(
    'value %d with warning %j / critical %j (%s) is %s',
    (value, warning, critical, direction, status) => {
      expect(evaluate(value, { warning, critical }, direction)).toBe(status);
    },
  );

  it('defaults are valid for every check, and overrides replace them', () => {
    const { thresholds, problems } = resolveThresholds(
      HEALTH_CHECKS,
      {
        health: {
          thresholds: {
            idle_in_transaction: { warning: '2 minutes', critical: null },
            index_bloat: { minSize: '1 GB' },
          },
        },
      },
      'prod',
    );
    expect(problems).toEqual([]);
    expect(thresholds.size).toBe(HEALTH_CHECKS.length);
    expect(thresholds.get('idle_in_transaction')).toEqual({
      parsed: { warning: 120, critical: null, minSizeBytes: null, inactiveForSeconds: null },
      text: { warning: '2 minutes', critical: null },
    });
    expect(thresholds.get('index_bloat')?.parsed.minSizeBytes).toBe(1024 ** 3);
    expect(thresholds.get('replication_slots')?.parsed.inactiveForSeconds).toBe(3600);
    expect(thresholds.get('cache_hit_ratio')?.text).toEqual({ warning: '99%', critical: '95%' });
  });

  it('reports every bad threshold at once, each with its path', () => {
    const { problems } = resolveThresholds(
      HEALTH_CHECKS,
      {
        health: {
          thresholds: {
            connections: { warning: 'lots' },
            bogus: {},
            xid_wraparound: { critical: '1 GB' },
            dead_tuples: { inactiveFor: '1 hour' },
          },
        },
      },
      'prod',
    );
    expect(problems).toEqual([
      'targets.prod.health.thresholds.connections.warning: expected a number like 50, or a share like "80%" or null, got "lots"',
      expect.stringMatching(/^targets\.prod\.health\.thresholds\.bogus: unknown check \(known: connection, /),
      'targets.prod.health.thresholds.xid_wraparound.critical: expected a whole number or null, got "1 GB"',
      'targets.prod.health.thresholds.dead_tuples.inactiveFor: only replication_slots takes inactiveFor',
    ]);
  });
});

describe('health state and alerts', () => {
  it('the run is the worst of its checks; skipped never counts', () => {
    expect(worstStatus(['ok', 'skipped'])).toBe('ok');
    expect(worstStatus(['skipped'])).toBe('ok');
    expect(worstStatus(['ok', 'unknown', 'warning'])).toBe('warning');
    expect(worstStatus(['unknown', 'ok'])).toBe('unknown');
    expect(worstStatus(['warning', 'critical', 'unknown'])).toBe('critical');
  });

  it('a first run reports only what is already wrong', () => {
    const changes = stateChanges(undefined, [
      result('a', 'ok'),
      result('b', 'skipped'),
      result('c', 'warning'),
    ]);
    expect(changes.map((c) => `${c.check.name}:${c.from}->${c.to}`)).toEqual(['c:ok->warning']);
  });

  it('reports escalations and recoveries, not unchanged states or ok <-> skipped', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const previous = nextState(
      undefined,
      [
        result('a', 'warning'),
        result('b', 'critical'),
        result('c', 'ok'),
        result('d', 'warning'),
        result('e', 'ok'),
      ],
      {},
      at,
    );
    const now = [
      result('a', 'critical'),
      result('b', 'ok'),
      result('c', 'skipped'),
      result('d', 'warning'),
      result('e', 'unknown'),
    ];
    expect(stateChanges(previous, now).map((c) => `${c.check.name}:${c.from}->${c.to}`)).toEqual([
      'a:warning->critical',
      'b:critical->ok',
      'e:ok->unknown',
    ]);
    const later = nextState(previous, now, { a: 1 }, new Date('2026-01-01T00:15:00Z'));
    expect(later.checks.d).toEqual({ status: 'warning', since: '2026-01-01T00:00:00.000Z' });
    expect(later.checks.a).toEqual({ status: 'critical', since: '2026-01-01T00:15:00.000Z' });
    expect(later.memory).toEqual({ a: 1 });
  });

  it('one alert per run, named after the worst new state, RECOVERED when all changes are recoveries', () => {
    const base = { target: 'prod', runId: 'r1' };
    const mixed = changeAlert(
      base,
      [
        { check: result('a', 'warning'), from: 'ok', to: 'warning' },
        { check: result('b', 'critical'), from: 'warning', to: 'critical' },
      ],
      'critical',
    );
    expect(mixed.status).toBe('CRITICAL');
    expect(mixed.details).toContain('  b: warning -> critical');
    expect(mixed.details).toContain('    what to do: fix b');
    const recovered = changeAlert(base, [{ check: result('a', 'ok'), from: 'warning', to: 'ok' }], 'ok');
    expect(recovered.status).toBe('RECOVERED');
  });
});

describe('health checks graded by history and by the calendar', () => {
  it('counts since the previous run, or since the statistics began when there is none or a counter went back', () => {
    const now = new Date('2027-03-28T01:30:00Z');
    const began = new Date('2027-03-28T00:30:00Z');
    expect(countersSince(undefined, { a: 10 }, now, began)).toMatchObject({
      delta: { a: 10 },
      seconds: 3600,
      from: 'the statistics reset',
    });
    const memory = { at: '2027-03-28T01:20:00.000Z', values: { a: 4 } };
    expect(countersSince(memory, { a: 10 }, now, began)).toMatchObject({
      delta: { a: 6 },
      seconds: 600,
      from: 'the previous run',
      memory: { at: now.toISOString(), values: { a: 10 } },
    });
    // A reset since the previous run: 3 < 4.
    expect(countersSince(memory, { a: 3 }, now, began).from).toBe('the statistics reset');
  });

  it.each([
    // [now, server_version_num, status]
    ['2027-05-14T00:00:00Z', 150018, 'ok'], // 181 days before 15's end of life
    ['2027-05-16T00:00:00Z', 150018, 'warning'], // 179 days before
    ['2027-11-12T00:00:00Z', 150018, 'critical'], // the day after
    ['2028-02-29T23:30:00Z', 160009, 'ok'],
    ['2028-02-29T23:30:00Z', 990001, 'ok'], // a major this table does not know yet
  ] as const)('server_version on %s for %i is %s', async (at, num, status) => {
    const check = HEALTH_CHECKS.find((c) => c.name === 'server_version');
    if (!check) throw new Error('no server_version check');
    const { thresholds } = resolveThresholds([check], undefined, 't');
    const resolved = thresholds.get('server_version');
    if (!resolved) throw new Error('no thresholds');
    const measured = await check.run({
      serverVersionNum: num,
      now: () => new Date(at),
      target: { timezone: 'UTC' } as never,
      thresholds: resolved.parsed,
    } as never);
    if ('skipped' in measured) throw new Error('skipped');
    expect(evaluate(measured.value, resolved.parsed, check.direction)).toBe(status);
  });

  it('a setting matches as shown or in its base unit, ignoring case', () => {
    const row = { name: 'work_mem', setting: '4096', unit: 'kB', shown: '4MB' };
    expect(settingMatches(row, '4MB')).toBe(true);
    expect(settingMatches(row, '4096')).toBe(true);
    expect(settingMatches({ ...row, setting: 'on', shown: 'on' }, 'ON')).toBe(true);
    expect(settingMatches(row, '8MB')).toBe(false);
  });

  it('minimumVersions and expect belong to their own checks only', () => {
    const issues = thresholdIssues(HEALTH_CHECKS, {
      connections: { minimumVersions: ['15.1'] },
      wal_files: { expect: { ssl: 'on' } },
    });
    expect(issues).toEqual([
      { path: ['connections', 'minimumVersions'], message: 'only server_version takes minimumVersions' },
      { path: ['wal_files', 'expect'], message: 'only settings takes expect' },
    ]);
  });
});
