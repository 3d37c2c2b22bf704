import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type Alert, type AlertSink, alertBody, alertSubject } from '../../functions/shared/alerts';
import { parseConfig } from '../../functions/shared/config/load';
import { InputError, JobError, RequestRefusedError } from '../../functions/shared/errors';
import type { JobDefinition } from '../../functions/shared/job';
import { silentLogger } from '../../functions/shared/logger';
import { noMetrics } from '../../functions/shared/metrics';
import { runJob } from '../../functions/shared/run-job';
import { registerSecret, scrub } from '../../functions/shared/secrets-scrub';

const config = parseConfig({ targets: { prod: { url: 'postgres://u:pw@localhost/db' } } });

function recordingAlerts(fail = false): AlertSink & { sent: Alert[] } {
  const sent: Alert[] = [];
  return {
    sent,
    async publish(alert) {
      if (fail) throw new Error('SNS is down');
      sent.push(alert);
    },
  };
}

function job(
  run: () => Promise<{ target: string; status: string }>,
  failed?: (r: { status: string }) => boolean,
) {
  const definition: JobDefinition<{ dryRun: boolean }, { target: string; status: string }> = {
    name: 'example',
    summary: 'example job',
    options: z.strictObject({ dryRun: z.boolean().default(false) }),
    flags: {},
    run,
    render: (r) => r.status,
    failed,
  };
  return definition;
}

const deps = (alerts: AlertSink) => ({
  config,
  logger: silentLogger,
  metrics: noMetrics,
  alerts,
  readSecret: async () => '',
  s3: () => {
    throw new Error('no S3 in unit tests');
  },
  runId: 'run-1',
});

describe('runJob', () => {
  it('returns the result and sends no alert when the job succeeds', async () => {
    const alerts = recordingAlerts();
    const result = await runJob(
      job(async () => ({ target: 'prod', status: 'ok' })),
      { target: 'prod' },
      deps(alerts),
    );
    expect(result.status).toBe('ok');
    expect(alerts.sent).toHaveLength(0);
  });

  it('publishes exactly one alert and rethrows when the job throws', async () => {
    const alerts = recordingAlerts();
    await expect(
      runJob(
        job(async () => Promise.reject(new JobError('disk full'))),
        { target: 'prod' },
        deps(alerts),
      ),
    ).rejects.toThrow('disk full');
    expect(alerts.sent).toEqual([
      expect.objectContaining({
        job: 'example',
        target: 'prod',
        status: 'FAILED',
        runId: 'run-1',
        error: 'disk full',
      }),
    ]);
  });

  it('a refused request (an operator mistake, a run already going) is rethrown without an alert', async () => {
    const alerts = recordingAlerts();
    const counted: string[] = [];
    const refusal = new RequestRefusedError('replace needs confirm');
    await expect(
      runJob(
        job(async () => Promise.reject(refusal)),
        { target: 'prod' },
        { ...deps(alerts), metrics: { add: (name) => counted.push(name), flush() {} } },
      ),
    ).rejects.toBe(refusal);
    expect(alerts.sent).toEqual([]);
    expect(counted).toContain('JobRefused');
    expect(counted).not.toContain('JobFailed');
  });

  it('treats a result the job marks as failed as a failure, with the result in the alert', async () => {
    const alerts = recordingAlerts();
    const definition = job(
      async () => ({ target: 'prod', status: 'mismatch' }),
      (r) => r.status === 'mismatch',
    );
    await expect(runJob(definition, { target: 'prod' }, deps(alerts))).rejects.toThrow(
      'example prod: mismatch',
    );
    expect(alerts.sent[0]?.result).toEqual({ target: 'prod', status: 'mismatch' });
  });

  it('a failing alert never hides the original error', async () => {
    await expect(
      runJob(
        job(async () => Promise.reject(new JobError('the real problem'))),
        { target: 'prod' },
        deps(recordingAlerts(true)),
      ),
    ).rejects.toThrow('the real problem');
  });

  it('rejects bad input naming every field, without running or alerting', async () => {
    const alerts = recordingAlerts();
    let ran = false;
    const definition = job(async () => {
      ran = true;
      return { target: 'prod', status: 'ok' };
    });
    const error = await runJob(definition, { target: 'nope', dryRun: 'yes', extra: 1 }, deps(alerts)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      'target: "nope" is not in the config (known: prod)',
      'dryRun: Invalid input: expected boolean, received string',
      'extra: unknown field',
    ]);
    expect(ran).toBe(false);
    expect(alerts.sent).toHaveLength(0);
  });
});

describe('alerts', () => {
  it('subject names status, job and target; body carries the result; no password anywhere', () => {
    registerSecret('hunter2-secret');
    const alert: Alert = {
      job: 'backup',
      target: 'prod',
      status: 'FAILED',
      runId: 'r1',
      error: 'pg_dump: password hunter2-secret rejected for postgres://app:hunter2-secret@db/x',
      result: { target: 'prod', status: 'failed' },
    };
    expect(alertSubject(alert)).toBe('pgmaint FAILED backup prod');
    const body = alertBody(alert);
    expect(body).toContain('run id: r1');
    expect(body).toContain('"status": "failed"');
    expect(body).not.toContain('hunter2-secret');
  });

  it('scrubs passwords in URLs and assignments even when never registered', () => {
    expect(scrub('postgres://app:s3cr3t@db:5432/x password=abc123 PASSWORD: "x y"')).toBe(
      'postgres://app:***@db:5432/x password=*** PASSWORD: ***',
    );
  });
});
