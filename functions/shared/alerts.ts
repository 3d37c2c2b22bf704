import type { SNSClient } from '@aws-sdk/client-sns';
import { sdk } from './aws';
import { errorMessage } from './errors';
import type { Logger } from './logger';
import { scrub } from './secrets-scrub';

export interface Alert {
  readonly job: string;
  readonly target: string;
  /** "FAILED" for a failed run; jobs that alert on change (health) use their own words. */
  readonly status: string;
  readonly runId: string;
  readonly error?: string;
  readonly result?: unknown;
  /** Extra lines of plain text for the human reading the e-mail. */
  readonly details?: readonly string[];
}

/** Where alerts go: an SNS topic (deployed, or CLI with alerts.topicArn), or stderr. */
export interface AlertSink {
  publish(alert: Alert): Promise<void>;
}

// SNS subjects: ASCII, no newlines, at most 100 characters.
export function alertSubject(alert: Alert): string {
  return scrub(`pgmaint ${alert.status} ${alert.job} ${alert.target}`)
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100);
}

export function alertBody(alert: Alert): string {
  const lines = [
    `target: ${alert.target}`,
    `job:    ${alert.job}`,
    `status: ${alert.status}`,
    `run id: ${alert.runId}`,
  ];
  if (alert.error) lines.push(`error:  ${alert.error}`);
  for (const line of alert.details ?? []) lines.push(line);
  if (alert.result !== undefined) lines.push('', 'result:', JSON.stringify(alert.result, null, 2));
  // SNS messages are capped at 256 KB; keep well under so a huge result never loses the alert.
  return scrub(lines.join('\n')).slice(0, 200_000);
}

export function snsAlerts(client: SNSClient, topicArn: string): AlertSink {
  return {
    async publish(alert) {
      const { PublishCommand } = sdk.sns();
      await client.send(
        new PublishCommand({ TopicArn: topicArn, Subject: alertSubject(alert), Message: alertBody(alert) }),
      );
    },
  };
}

export function stderrAlerts(write: (text: string) => void = (t) => process.stderr.write(t)): AlertSink {
  return {
    async publish(alert) {
      write(`ALERT ${alertSubject(alert)}\n${alertBody(alert).replace(/^/gm, '  ')}\n`);
    },
  };
}

/**
 * Publishes, and never throws: a failure of the alert is logged and must not hide the error
 * that caused it.
 */
export async function publishSafely(sink: AlertSink, alert: Alert, logger: Logger): Promise<boolean> {
  try {
    await sink.publish(alert);
    return true;
  } catch (error) {
    logger.error(`could not publish the alert for ${alert.job} ${alert.target}: ${errorMessage(error)}`);
    return false;
  }
}
