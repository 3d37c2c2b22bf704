import { describe, expect, it } from 'vitest';
import { failureAlert, parseJobFunctions } from '../../functions/failure-alert/record';
import { alertBody, alertSubject } from '../../functions/shared/alerts';

const jobs = parseJobFunctions('backup=Ops-BackupFn,health=Ops-HealthFn');
const record = (requestContext: Record<string, unknown>, responsePayload: unknown = {}) => ({
  version: '1.0',
  requestContext: {
    requestId: 'req-1',
    functionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:Ops-HealthFn:$LATEST',
    condition: 'RetriesExhausted',
    approximateInvokeCount: 3,
    ...requestContext,
  },
  requestPayload: { target: 'prod' },
  responsePayload,
});

describe('the failure alert built from Lambda’s on-failure record', () => {
  it('names the job from the function, the target from the event, and the tries', () => {
    const alert = failureAlert(
      record({}, { errorType: 'ConnectionError', errorMessage: 'cannot connect to db:5432' }),
      jobs,
    );
    expect(alertSubject(alert)).toBe('pgmaint FAILED health prod');
    const body = alertBody(alert);
    expect(body).toContain('error:  cannot connect to db:5432');
    expect(body).toContain('tries:  3 (every attempt failed)');
    expect(body).toContain('run id: req-1');
  });

  it('says when the event grew too old for another try', () => {
    const alert = failureAlert(
      record({ condition: 'EventAgeExceeded', approximateInvokeCount: 1 }, null),
      jobs,
    );
    expect(alertBody(alert)).toContain('tries:  1 (the event grew older than the maximum event age');
    expect(alert.error).toBe('no error message (see the logs)');
  });

  it('reports a timeout, which never reached pgmaint’s code, with the runtime’s words', () => {
    const alert = failureAlert(
      record({}, { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 900.00 seconds' }),
      jobs,
    );
    expect(alert.error).toBe('Task timed out after 900.00 seconds');
  });

  it('still alerts on a record it cannot read, carrying the record', () => {
    const alert = failureAlert({ unexpected: true }, jobs);
    expect(alertSubject(alert)).toBe('pgmaint FAILED unknown unknown');
    expect(alert.result).toEqual({ unexpected: true });
  });
});
