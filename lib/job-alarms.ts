import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { nextRuns, parseSchedule } from '../functions/shared/schedule';
import type { ScheduledInvocation } from './job-settings';

export interface JobAlarmsProps {
  readonly job: string;
  readonly function: lambda.IFunction;
  readonly timeout: Duration;
  readonly topic: sns.ITopic;
  /** The schedules that invoke this function: they set the alarms' periods. */
  readonly invocations: readonly ScheduledInvocation[];
}

/** CloudWatch evaluates at most one day of data for an alarm on a standard metric. */
const MAX_ALARM_WINDOW_S = 86_400;

/**
 * Alarms that make a job's failures impossible to miss, all to the alert topic, none breaching on
 * missing data (a job that did not run is the no-invocation alarm's business): errors, throttles,
 * a run close to its timeout, and a schedule that produced no invocation in its window.
 */
export class JobAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: JobAlarmsProps) {
    super(scope, id);
    const fn = props.function;
    // One period long enough to hold one scheduled run, at least 5 minutes.
    const gapS = longestGapSeconds(props.invocations);
    const period = Duration.seconds(Math.min(Math.max(gapS ?? 300, 300), MAX_ALARM_WINDOW_S));
    this.add(
      'Errors',
      {
        alarmDescription: `pgmaint ${props.job}: the function failed (see the FAILED alert and its logs)`,
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      props.topic,
    );
    this.add(
      'Throttles',
      {
        alarmDescription: `pgmaint ${props.job}: invocations were throttled (account concurrency exhausted?)`,
        metric: fn.metricThrottles({ period, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      props.topic,
    );
    this.add(
      'NearTimeout',
      {
        alarmDescription: `pgmaint ${props.job}: a run took over 90% of the ${props.timeout.toMinutes()}-minute timeout; it will soon be cut off`,
        metric: fn.metricDuration({ period, statistic: 'Maximum' }),
        threshold: props.timeout.toMilliseconds() * 0.9,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
      props.topic,
    );
    if (gapS !== undefined && gapS <= MAX_ALARM_WINDOW_S) {
      const window = Math.min(Math.ceil((gapS * 1.5) / 60) * 60, MAX_ALARM_WINDOW_S);
      // A schedule that silently stopped (deleted, disabled, failing to invoke) shows as no invocations.
      this.add(
        'NotRunning',
        {
          alarmDescription: `pgmaint ${props.job}: no invocation in ${Math.round(window / 60)} minutes although it is scheduled more often`,
          metric: fn.metricInvocations({ period: Duration.seconds(window), statistic: 'Sum' }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        props.topic,
      );
    }
  }

  private add(
    id: string,
    props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number },
    topic: sns.ITopic,
  ) {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    if (id !== 'NotRunning') alarm.addOkAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}

/** An alarm on the dead-letter queue: a scheduled event that could not be delivered at all. */
export function deadLetterAlarm(scope: Construct, queue: sqs.IQueue, topic: sns.ITopic): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, 'DeadLettersAlarm', {
    alarmDescription:
      'pgmaint: a scheduled job could not be invoked after every retry; its event is in the dead-letter queue',
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
}

/** The longest wait between two runs of any of these schedules, from their next few runs. */
export function longestGapSeconds(invocations: readonly ScheduledInvocation[]): number | undefined {
  let longest: number | undefined;
  const from = new Date(Date.UTC(2030, 0, 1));
  for (const invocation of invocations) {
    const parsed = parseSchedule(invocation.expression);
    if ('error' in parsed) continue; // validated with the config; nothing to measure
    const runs = nextRuns(parsed, invocation.timezone, 6, from);
    for (let i = 1; i < runs.length; i++) {
      const gap = ((runs[i]?.getTime() ?? 0) - (runs[i - 1]?.getTime() ?? 0)) / 1000;
      longest = Math.max(longest ?? 0, gap);
    }
  }
  return longest;
}
