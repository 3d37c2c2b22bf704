import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../functions/cli/main';
import { handler } from '../../functions/health/handler';
import { createRdsSecret, createTopicInbox, type Inbox } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';

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
        health: { schedule: 'rate(15 minutes)', thresholds: UNGRADED_SERVER_WIDE },
      },
      bad: { secret: badSecret },
    },
  });

  it('validate prints each schedule with its next runs', async () => {
    const path = writeConfig(config());
    const out = await runCli(['validate', '--config', path]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('rate(15 minutes)');
    expect(out.stdout.match(/next: /g)).toHaveLength(3);
  });

  it('reports the server version and round trip as JSON with exit 0', async () => {
    const out = await runCli(['health', '--config', writeConfig(config()), '--target', 'good', '--json']);
    expect(out.code).toBe(0);
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
    expect(result.status).toBe('ok');
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
