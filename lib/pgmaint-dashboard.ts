import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { JobName } from '../functions/shared/config/schema';

export interface PgmaintDashboardProps {
  readonly targets: readonly string[];
  readonly functions: Readonly<Record<JobName, lambda.IFunction>>;
}

/** The namespace and dimensions the jobs' embedded-metric-format records use. */
export const METRICS_NAMESPACE = 'pgmaint';
export const METRICS_SERVICE = 'pgmaint';
const NAMESPACE = METRICS_NAMESPACE;
const SERVICE = METRICS_SERVICE;

const targetMetric = (name: string, target: string, statistic: string, label: string, job?: string) =>
  new cloudwatch.Metric({
    namespace: NAMESPACE,
    metricName: name,
    dimensionsMap: job ? { service: SERVICE, job, target } : { service: SERVICE, target },
    statistic,
    label,
    period: Duration.hours(1),
  });

const checkMetric = (target: string, check: string, label: string) =>
  new cloudwatch.Metric({
    namespace: NAMESPACE,
    metricName: 'HealthCheckValue',
    dimensionsMap: { service: SERVICE, target, check },
    statistic: 'Average',
    label,
    period: Duration.minutes(15),
  });

/**
 * One dashboard per deployment: per target, the last backup (size, duration), health status and
 * key values, rows deleted by retention, bytes reclaimed by reindex; and errors per job.
 */
export class PgmaintDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PgmaintDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    for (const target of props.targets) {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `## ${target}`, width: 24, height: 1 }),
        new cloudwatch.SingleValueWidget({
          title: `${target}: last backup`,
          width: 8,
          metrics: [
            checkMetric(target, 'backup_freshness', 'age of the newest verified backup'),
            targetMetric('BackupBytes', target, 'Maximum', 'size (bytes)'),
            targetMetric('BackupDurationMs', target, 'Maximum', 'duration (ms)'),
            targetMetric('DatabaseSizeBytes', target, 'Maximum', 'database (bytes)'),
          ],
          period: Duration.days(2),
          setPeriodToTimeRange: false,
        }),
        new cloudwatch.GraphWidget({
          title: `${target}: health (worst check: 0 ok, 1 warning, 2 critical, 3 unknown)`,
          width: 8,
          left: [
            new cloudwatch.MathExpression({
              expression: `MAX(SEARCH('{${NAMESPACE},service,target,check} MetricName="HealthCheckStatus" target="${target}"', 'Maximum', 900))`,
              label: 'worst status',
              period: Duration.minutes(15),
            }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `${target}: connections, cache hit ratio, xid age, size`,
          width: 8,
          left: [
            checkMetric(target, 'connections', 'connections in use'),
            checkMetric(target, 'cache_hit_ratio', 'cache hit %'),
          ],
          right: [
            checkMetric(target, 'xid_wraparound', 'xid age'),
            checkMetric(target, 'database_size', 'database size'),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `${target}: rows deleted by retention, bytes reclaimed by reindex`,
          width: 24,
          left: [targetMetric('RowsDeleted', target, 'Sum', 'rows deleted', 'retention')],
          right: [targetMetric('BytesReclaimed', target, 'Sum', 'bytes reclaimed', 'reindex')],
        }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'errors per job',
        width: 24,
        left: Object.entries(props.functions).map(([job, fn]) =>
          fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum', label: job }),
        ),
      }),
    );
  }
}
