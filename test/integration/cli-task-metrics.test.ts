import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBinary, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { UNGRADED_SERVER_WIDE } from '../helpers/health';

/** The EMF documents among a process's stdout lines. */
function emfDocuments(
  stdout: string,
): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } }> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}

/**
 * A Fargate task runs the CLI with PGMAINT_METRICS=emf, and its stdout goes to the job's log
 * group: the run's JobSucceeded must be there as EMF, as a Lambda run's is, for the "no
 * successful run" alarm to count it.
 */
describe('the CLI as a Fargate task runs it: metrics as EMF on stdout', () => {
  let db: TestDatabase;
  let config: string;
  beforeAll(async () => {
    db = await createTestDatabase('task_metrics');
    config = writeConfig({ targets: { t: { url: db.url, health: { thresholds: UNGRADED_SERVER_WIDE } } } });
  });
  afterAll(async () => db?.drop());

  it('writes JobSucceeded with the job and target the alarm watches, in the pgmaint namespace', async () => {
    const out = await runBinary(['health', '--config', config, '--target', 't'], {
      ...process.env,
      PGMAINT_METRICS: 'emf',
    });
    expect(out.code, out.stderr).toBe(0);
    const succeeded = emfDocuments(out.stdout).filter((d) => d.JobSucceeded !== undefined);
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]).toMatchObject({
      JobSucceeded: 1,
      job: 'health',
      target: 't',
      service: 'pgmaint',
      _aws: {
        CloudWatchMetrics: [
          expect.objectContaining({
            Namespace: 'pgmaint',
            Metrics: expect.arrayContaining([{ Name: 'JobSucceeded', Unit: 'Count' }]),
          }),
        ],
      },
    });
  });

  it('writes none on a terminal or in cron (no PGMAINT_METRICS)', async () => {
    const { PGMAINT_METRICS: _unset, ...env } = process.env;
    const out = await runBinary(['health', '--config', config, '--target', 't'], env);
    expect(out.code, out.stderr).toBe(0);
    expect(emfDocuments(out.stdout)).toEqual([]);
  });
});
