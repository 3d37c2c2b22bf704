import { describe, expect, it } from 'vitest';
import { extractConfig, parseConfig } from '../../functions/shared/config/load';
import { ConfigError } from '../../functions/shared/errors';

const valid = {
  alerts: { topicArn: 'arn:aws:sns:eu-west-2:123456789012:pgmaint-alerts', emails: ['ops@example.com'] },
  backupBucket: 'my-backups',
  targets: {
    prod: {
      secret: 'titan/prod',
      timezone: 'Europe/London',
      backup: { schedule: 'cron(0 2 * * ? *)', retentionDays: 30 },
      retention: { schedule: 'cron(15 2 * * ? *)', rules: [] },
      reindex: { schedule: 'cron(0 4 ? * SUN#1 *)' },
      health: { schedule: 'rate(15 minutes)', thresholds: {} },
    },
  },
};

function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config validation', () => {
  it('accepts the documented example and fills defaults', () => {
    const config = parseConfig(valid);
    expect(config.targets.prod?.backup?.keepAtLeast).toBe(3);
    expect(config.targets.prod?.reindex?.minBloat).toBe('30%');
  });

  it('reads the config from a cdk.json context', () => {
    expect(extractConfig({ app: 'x', context: { pgmaint: valid } })).toBe(valid);
  });

  it('reports every problem at once, each with its path', () => {
    const problems = problemsOf({
      backupBucket: 'Not_A_Bucket',
      targets: {
        prod: {
          secret: 's',
          url: 'postgres://x',
          timezone: 'Mars/Olympus',
          retention: {
            rules: [
              { table: 'a', column: 'c', olderThan: '90 days' },
              { table: 'a', column: 'c', olderThan: '90 days' },
              { table: 'a', column: 'c', olderThan: 'ninety' },
            ],
          },
          health: { schedule: 'rate(15 minute)' },
          bogus: true,
        },
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'backupBucket: expected an S3 bucket name or file:///absolute/path',
        'targets.prod.timezone: "Mars/Olympus" is not a time zone: expected an IANA name like "Europe/London" or "UTC"',
        'targets.prod.retention.rules[2].olderThan: expected an interval like "90 days" (units: seconds, minutes, hours, days, weeks), got "ninety"',
        'targets.prod.bogus: unknown field',
        'targets.prod: give exactly one of "secret" (deployed) or "url" (local runs)',
      ]),
    );
    expect(problems.some((p) => p.startsWith('targets.prod.health.schedule: use "rate(15 minutes)"'))).toBe(
      true,
    );
    expect(problems).toHaveLength(6);
  });

  it.each([
    ['cron(0 2 * * ? *)', true],
    ['cron(0 4 ? * SUN#1 *)', true],
    ['cron(0 2 * * * *)', false],
    ['cron(0 2 * *)', false],
    ['rate(1 hour)', true],
    ['rate(0 minutes)', false],
    ['every day', false],
  ])('schedule %s valid=%s', (schedule, ok) => {
    const problems = problemsOf({ targets: { t: { url: 'postgres://h/db', health: { schedule } } } });
    expect(problems.length === 0).toBe(ok);
  });

  it.each([
    ['25%', []],
    ['250%', []],
    ['1000%', []],
    [
      '1001%',
      [
        'targets.t.retention.pauseAfterBatch: expected a percentage from 0% to 1000%, like "30%", got "1001%"',
      ],
    ],
    [
      '0.25',
      ['targets.t.retention.pauseAfterBatch: expected a percentage from 0% to 1000%, like "30%", got "0.25"'],
    ],
  ])('retention.pauseAfterBatch %s', (pauseAfterBatch, problems) => {
    const retention = { pauseAfterBatch, rules: [] };
    expect(problemsOf({ targets: { t: { url: 'postgres://h/db', retention } } })).toEqual(problems);
  });

  it('names the range of a percentage it refuses', () => {
    const retention = { vacuumAbove: '110%', rules: [] };
    expect(problemsOf({ targets: { t: { url: 'postgres://h/db', retention } } })).toEqual([
      'targets.t.retention.vacuumAbove: expected a percentage from 0% to 100%, like "30%", got "110%"',
    ]);
  });

  it('requires exactly one of secret and url', () => {
    expect(problemsOf({ targets: { t: {} } })).toEqual([
      'targets.t: give exactly one of "secret" (deployed) or "url" (local runs)',
    ]);
  });

  it('refuses an object lock shorter than the retention it must cover', () => {
    const lock = (days: number, retentionDays?: number) =>
      problemsOf({
        targets: {
          t: { url: 'postgres://h/db', backup: { retentionDays, objectLock: { mode: 'COMPLIANCE', days } } },
        },
      });
    expect(lock(7, 14)).toEqual([
      'targets.t.backup.objectLock.days: 7 is shorter than retentionDays (14): a backup must stay locked as long as it is kept; raise objectLock.days or lower retentionDays',
    ]);
    expect(lock(7)[0]).toMatch(/retentionDays \(30\)/);
    expect(lock(14, 14)).toEqual([]);
    expect(
      problemsOf({
        targets: { t: { url: 'postgres://h/db', backup: { objectLock: { mode: 'LOOSE', days: 30 } } } },
      }),
    ).toEqual(['targets.t.backup.objectLock.mode: expected "GOVERNANCE" or "COMPLIANCE"']);
  });

  it('rejects target names that cannot become resource names', () => {
    expect(problemsOf({ targets: { 'bad name!': { url: 'postgres://h/db' } } })[0]).toMatch(
      /^targets\.bad name!: target names/,
    );
  });
});
