import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRdsSecret } from '../helpers/aws';
import { runBinary, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';

describe('the pgmaint executable (bin/pgmaint.js, what `npx pgmaint` runs)', () => {
  let db: TestDatabase;
  let configPath: string;

  beforeAll(async () => {
    db = await createTestDatabase('cli_binary');
    const secret = await createRdsSecret(db.settings);
    // An alert topic that does not exist: publishing fails, and must not hide the job's own error.
    configPath = writeConfig({
      alerts: { topicArn: 'arn:aws:sns:us-east-1:123456789012:pgmaint-missing-topic' },
      targets: {
        prod: { secret, health: { thresholds: UNGRADED_SERVER_WIDE } },
        down: { url: 'postgres://pgmaint:secret-pw@127.0.0.1:1/nowhere' },
      },
    });
  });
  afterAll(async () => db?.drop());

  it('prints exactly one JSON object on stdout and logs on stderr', async () => {
    const out = await runBinary(['health', '--config', configPath, '--target', 'prod', '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ target: 'prod', status: 'ok' });
    expect(out.stderr).toContain('health prod: starting');
    expect(out.stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('a failed alert is logged and the original error still decides the exit code and message', async () => {
    const out = await runBinary(['health', '--config', configPath, '--target', 'down']);
    expect(out.code).toBe(2);
    // Cannot connect is critical, and says so where a monitoring system reads: stdout.
    expect(out.stdout).toMatch(/^PGMAINT CRITICAL - cannot connect to pgmaint@127\.0\.0\.1:1\/nowhere/);
    expect(out.stderr).toContain('could not publish the alert for health down');
    expect(out.stderr).toMatch(
      /pgmaint health down: cannot connect to pgmaint@127\.0\.0\.1:1\/nowhere: connection refused/,
    );
    expect(out.stderr).not.toContain('secret-pw');
  });

  it('usage errors name the problem: health exits 3 (a plugin UNKNOWN), other commands 2', async () => {
    const out = await runBinary(['health', '--config', configPath, '--target', 'prod', '--nope']);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain("Unknown option '--nope'");
    expect(out.stdout).toBe("PGMAINT UNKNOWN - Unknown option '--nope'\n");
    const backup = await runBinary(['backup', '--config', configPath, '--target', 'prod', '--nope']);
    expect(backup.code).toBe(2);
    expect(backup.stdout).toBe('');
    const unknown = await runBinary(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
