import type { JobDefinition } from '../shared/job';
import { buildReport, type TargetReport } from './build-report';
import { renderReport } from './render-report';
import { type ReportOptions, reportOptions } from './report-options';

export interface ReportResult extends TargetReport {
  /** Whether the report went to the alert topic (--publish, the scheduled report). */
  readonly published: boolean;
}

/**
 * `pgmaint report`: what an auditor asks about each target, from the store alone (no database):
 * backups, retention, lock and copies, drills against the RTO, health. Read-only, except that
 * `publish` also sends it to the alert topic.
 */
export const reportCommand: JobDefinition<ReportOptions, ReportResult> = {
  name: 'report',
  summary:
    'one page per target: backups, retention, lock, copies, drills against the RTO, health (all targets without --target)',
  options: reportOptions,
  flags: {
    drills: { type: 'number', description: 'how many of the newest drills to list (default 10)' },
    publish: { type: 'boolean', description: 'also publish the report to the alert topic (alerts.topicArn)' },
  },
  everyTargetWithoutTarget: true,
  alertOnFailure: false,
  async run(context, options) {
    const report = await buildReport({
      store: context.store(),
      targetName: context.targetName,
      target: context.target,
      now: context.now(),
      recentDrills: options.drills,
      warn: (message) => context.logger.warn(message),
    });
    if (options.publish)
      await context.alerts.publish({
        job: 'report',
        target: context.targetName,
        status: report.status.toUpperCase(),
        runId: context.runId,
        details: ['', renderReport(report)],
      });
    return { ...report, published: options.publish };
  },
  render: renderReport,
};
