import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { nextRuns, parseSchedule } from '../functions/shared/schedule';
import type { ScheduledInvocation } from './job-settings';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './pgmaint-dashboard';

export interface JobAlarmsProps {
  readonly job: string;
  readonly function: lambda.IFunction;
  readonly timeout: Duration;
  readonly topic: sns.ITopic;
  /** The schedules that invoke this function: they set the alarms' periods. */
  readonly invocations: readonly ScheduledInvocation[];
}

/** CloudWatch: a period under an hour may span at most a day of evaluation; longer ones 7 days. */
const SHORT_WINDOW_LIMIT_S = 86_400;
const LONG_WINDOW_LIMIT_S = 7 * 86_400;

/**
 * Alarms about the function itself, all to the alert topic, none breaching on missing data:
 * throttles, a run close to its timeout, and a failure record Lambda could not deliver (then the
 * run's FAILED alert is lost, and this alarm is the only page). Failed runs alert through the
 * on-failure destination, once per run after the last retry; whether each target's job keeps
 * succeeding is the per-target alarms' business (TargetJobAlarms).
 */
export class JobAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: JobAlarmsProps) {
    super(scope, id);
    const fn = props.function;
    // One period long enough to hold one scheduled run, at least 5 minutes.
    const gapS = longestGapSeconds(props.invocations);
    const period = Duration.seconds(Math.min(Math.max(gapS ?? 300, 300), SHORT_WINDOW_LIMIT_S));
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
    this.add(
      'AlertUndelivered',
      {
        alarmDescription: `pgmaint ${props.job}: a failed run's record could not reach the failure-alert function, so its FAILED alert was not sent; see the function's logs`,
        metric: fn.metric('DestinationDeliveryFailures', { period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      props.topic,
    );
  }

  private add(id: string, props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'>, topic: sns.ITopic) {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    alarm.addOkAction(new actions.SnsAction(topic));
    this.alarms.push(alarm);
  }
}

export interface TargetJobAlarmsProps {
  /** One target's schedule of one job: its expression and time zone set the window. */
  readonly invocation: ScheduledInvocation;
  readonly topic: sns.ITopic;
}

/**
 * "No successful run": one target's job, from the `JobSucceeded` metric the job publishes with
 * `job` and `target` dimensions, over 1.5 times the longest gap of that target's own schedule.
 * Whether the schedule stopped, every attempt failed, or runs crash before they report, this
 * alarm fires once; a try that a retry repaired does not. A schedule whose gap CloudWatch cannot
 * hold with a margin (weekly and rarer) gets none: health's backup_freshness and restore_drill
 * checks watch those.
 */
export class TargetJobAlarms extends Construct {
  readonly alarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: TargetJobAlarmsProps) {
    super(scope, id);
    const { invocation } = props;
    const window = noSuccessWindow(longestGapSeconds([invocation]));
    if (!window) return;
    const hours = window.periodS >= 3600;
    const span = hours
      ? `${(window.periodS * window.periods) / 3600} hours`
      : `${window.periodS / 60} minutes`;
    this.alarm = new cloudwatch.Alarm(this, 'NoSuccessfulRun', {
      alarmDescription: `pgmaint ${invocation.name} ${invocation.target}: no successful run in ${span} although "${invocation.expression}" (${invocation.timezone}) schedules one more often; see the FAILED alert or the function's logs`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'JobSucceeded',
        dimensionsMap: { service: METRICS_SERVICE, job: invocation.job, target: invocation.target },
        period: Duration.seconds(window.periodS),
        statistic: 'Sum',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // Every period of the window without a success: hourly periods let the window pass a day.
      evaluationPeriods: window.periods,
      datapointsToAlarm: window.periods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
  }
}

/** The share of its RTO a drill may use before the near-RTO alarm warns. */
export const NEAR_RTO_PERCENT = 80;

export interface DrillRtoAlarmProps {
  readonly target: string;
  /** The target's `restore.drill.rto`, as configured. */
  readonly rto: string;
  readonly topic: sns.ITopic;
}

/**
 * Near the RTO: a drill within its RTO that used NEAR_RTO_PERCENT of it or more, from the
 * `DrillRtoUsedPercent` the restore job publishes for drills within their RTO only. A breach is
 * not this alarm's to report: that drill fails, and its FAILED alert is the one page; this alarm
 * keeps its state through a breach and through the days between drills (missing data is ignored),
 * and returns to OK at the next drill with room to spare.
 */
export class DrillRtoAlarm extends Construct {
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DrillRtoAlarmProps) {
    super(scope, id);
    this.alarm = new cloudwatch.Alarm(this, 'NearRto', {
      alarmDescription: `pgmaint restore ${props.target}: a restore drill took ${NEAR_RTO_PERCENT}% or more of its RTO (${props.rto}); as the database grows the next ones will breach it. See the drill's "restore phases" log line for where the time goes, and restore.drill in the config`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'DrillRtoUsedPercent',
        dimensionsMap: { service: METRICS_SERVICE, job: 'restore', target: props.target },
        // A drill a week at most: one day holds it, and ignoring missing data keeps the state until the next.
        period: Duration.days(1),
        statistic: 'Maximum',
      }),
      threshold: NEAR_RTO_PERCENT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
  }
}

/**
 * The window without a success that means something is wrong: 1.5 times the gap, in one period
 * below an hour, else in whole hours; none when that no longer fits CloudWatch's 7 days with at
 * least an hour to spare beyond the gap.
 */
export function noSuccessWindow(gapS: number | undefined): { periodS: number; periods: number } | undefined {
  if (gapS === undefined) return undefined;
  const wanted = gapS * 1.5;
  if (wanted < 3600) return { periodS: Math.max(Math.ceil(wanted / 60) * 60, 300), periods: 1 };
  const periods = Math.min(Math.ceil(wanted / 3600), LONG_WINDOW_LIMIT_S / 3600);
  if (periods * 3600 < gapS + 3600) return undefined;
  return { periodS: 3600, periods };
}

/** The alarm on the failure-alert function itself: when it fails, FAILED alerts are not sent. */
export function failureAlertsAlarm(
  scope: Construct,
  fn: lambda.IFunction,
  topic: sns.ITopic,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, 'FailureAlertsErrors', {
    alarmDescription:
      'pgmaint: the failure-alert function failed, so FAILED alerts of failed runs may be missing; see its logs',
    metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
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
