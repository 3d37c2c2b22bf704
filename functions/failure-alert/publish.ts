import { snsAlerts } from '../shared/alerts';
import { snsClient } from '../shared/aws';
import { requireEnv } from '../shared/env';
import { lambdaLogger } from '../shared/logger';
import { failureAlert, parseJobFunctions } from './record';

/**
 * The on-failure destination of every retried pgmaint function: turns Lambda's failure record
 * into the one readable FAILED alert of that run. A failed publish throws, so Lambda retries this
 * function in turn (and its Errors alarm fires if it never gets through).
 */
export function failureAlertHandler(env: NodeJS.ProcessEnv = process.env) {
  let ready:
    | { publish: ReturnType<typeof snsAlerts>['publish']; jobs: ReadonlyMap<string, string> }
    | undefined;
  const logger = lambdaLogger('failure-alert');
  return async (record: unknown): Promise<void> => {
    if (!ready) {
      const topicArn = requireEnv('PGMAINT_ALERT_TOPIC_ARN', env);
      ready = {
        publish: snsAlerts(snsClient(topicArn), topicArn).publish,
        jobs: parseJobFunctions(requireEnv('PGMAINT_JOB_FUNCTIONS', env)),
      };
    }
    const alert = failureAlert(record, ready.jobs);
    logger.error(`${alert.job} ${alert.target} failed for good: ${alert.error}`, { runId: alert.runId });
    await ready.publish(alert);
  };
}
