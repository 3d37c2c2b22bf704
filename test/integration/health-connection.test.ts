import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { handler } from '../../functions/health/handler';
import { createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';

/** The checks of a health result that are not ok or skipped, to name them when a test fails. */
function notOk(json: string): string {
  try {
    const result = JSON.parse(json) as { checks: Array<{ name: string; status: string; message: string }> };
    return result.checks
      .filter((c) => c.status !== 'ok' && c.status !== 'skipped')
      .map((c) => `${c.name} ${c.status}: ${c.message}`)
      .join('; ');
  } catch {
    return json;
  }
}

describe('health connection check, end to end (secret in Secrets Manager → PostgreSQL → result → SNS)', () => {
  let db: TestDatabase;
  let inbox: Inbox;
  let goodSecret: string;
  let badSecret: string;

  beforeAll(async () => {
    db = await createTestDatabase('health_conn');
    inbox = await createTopicInbox();
    goodSecret = await createRdsSecret(db.settings);
    badSecret = await createRdsSecret({ ...db.settings, password: 'Wr0ng-Passw0rd-42' });
  });
  afterAll(async () => db?.drop());

  const config = () => ({
    alerts: { topicArn: inbox.topicArn },
    targets: {
      good: {
        secret: goodSecret,
        // London, so the runs printed on the days its clocks change are the ones that matter.
        timezone: 'Europe/London',
        // Connecting can pass the default 1-second warning on a loaded machine; this is about the
        // path end to end, and health-checks tests the thresholds.
        health: {
          schedule: 'rate(15 minutes)',
          thresholds: { ...UNGRADED_SERVER_WIDE, connection: { warning: '30 seconds' } },
        },
        backup: { schedule: 'cron(30 1 * * ? *)' },
      },
      bad: { secret: badSecret },
    },
  });

  it('validate prints each schedule with its next runs, on the London wall clock', async () => {
    const path = writeConfig(config());
    const out = await runCli(['validate', '--config', path]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('rate(15 minutes) (Europe/London)');
    expect(out.stdout.match(/next: /g)).toHaveLength(6);

    const json = await runCli(['validate', '--config', path, '--json']);
    const { schedules } = JSON.parse(json.stdout) as {
      schedules: Array<{ job: string; nextRuns: string[] }>;
    };
    const runsOf = (job: string) => schedules.find((s) => s.job === job)?.nextRuns ?? [];
    const local = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) GMT(\+1)?$/;
    for (const run of [...runsOf('health'), ...runsOf('backup')]) expect(run).toMatch(local);

    // The London date and time now, read independently of pgmaint.
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-CA', {
        timeZone: 'Europe/London',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(new Date())
        .map((p) => [p.type, p.value]),
    );
    const today = `${parts.year}-${parts.month}-${parts.day}`;
    const nowClock = `${parts.hour}:${parts.minute}`;
    // A daily 01:30 runs at 01:30 on the wall clock, once a day: never moved to 02:00 when the
    // clocks skip 01:30, never twice when they repeat it, never today once today's 01:30 is past.
    const backups = runsOf('backup').map((run) => local.exec(run) ?? []);
    expect(backups).toHaveLength(3);
    for (const [, , clock] of backups) expect(clock).toBe('01:30');
    const days = backups.map(([, day]) => day ?? '');
    expect([...days].sort()).toEqual(days);
    expect(new Set(days).size).toBe(3);
    const first = days[0] ?? '';
    if (nowClock >= '01:30') expect(first > today, `${first} after ${today} ${nowClock}`).toBe(true);
    else expect(first >= today, `${first} from ${today} ${nowClock}`).toBe(true);
  });

  it('reports the server version and round trip as JSON with exit 0', async () => {
    const out = await runCli(['health', '--config', writeConfig(config()), '--target', 'good', '--json']);
    expect(out.code, notOk(out.stdout)).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ target: 'good', status: 'ok' });
    const connection = result.checks.find((c: { name: string }) => c.name === 'connection');
    expect(connection.details.serverVersionNum).toBeGreaterThanOrEqual(130000);
    expect(connection.value).toBeGreaterThan(0);
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('a wrong password fails with one line, a non-zero exit and exactly one SNS alert without the password', async () => {
    const out = await runCli(['health', '--config', writeConfig(config()), '--target', 'bad']);
    expect(out.code).not.toBe(0);
    const errorLines = out.stderr.split('\n').filter((line) => line.startsWith('pgmaint health'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain('password authentication failed');
    const messages = await inbox.messages({ expect: 1 });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toBe('pgmaint FAILED health bad');
    expect(messages[0]?.message).toContain('password authentication failed');
    expect(messages[0]?.message).not.toContain('Wr0ng-Passw0rd-42');
    expect(out.stderr + out.stdout).not.toContain('Wr0ng-Passw0rd-42');
  });

  it('the Lambda handler returns the same result and rejects a bad event naming the field', async () => {
    process.env.PGMAINT_CONFIG = JSON.stringify(config());
    const result = await handler(
      { target: 'good' },
      { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 },
    );
    expect(result.status, notOk(JSON.stringify(result))).toBe('ok');
    await expect(handler({ target: 'good', bogus: 1 })).rejects.toThrow(/bogus: unknown field/);
    await expect(handler({})).rejects.toThrow(/target: expected the name of a target/);
  });

  it('an unknown target is a plugin UNKNOWN: exit 3, named on stderr and on the first line of stdout', async () => {
    const out = await runCli(['health', '--config', writeConfig(config()), '--target', 'nope']);
    expect(out.code).toBe(3);
    expect(out.stdout).toMatch(/^PGMAINT UNKNOWN - invalid input: .*"nope" is not in the config/);
    expect(out.stderr).toContain('"nope" is not in the config');
    expect(typeof main).toBe('function');
  });
});
