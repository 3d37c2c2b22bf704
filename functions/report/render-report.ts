import { formatBytes, formatDuration } from '../shared/units';
import type { ReportDrill, TargetReport } from './build-report';

const RULE_UNITS: Record<string, string> = {
  keepAtLeast: 'backups',
  retentionDays: 'days covered',
  keepDaily: 'days',
  keepWeekly: 'weeks',
  keepMonthly: 'months',
  keepYearly: 'years',
};

const DATABASE_STATUS = {
  ok: 'ok',
  overdue: 'OVERDUE',
  missing: 'MISSING',
  'left-out': 'left out',
} as const;

const label = (name: string) => `  ${name.padEnd(10)}  `;
const more = label('');

/** One target's report as a page of text: the same lines on a terminal and in the weekly e-mail. */
export function renderReport(report: TargetReport): string {
  const now = Date.parse(report.generatedAt);
  const ago = (iso: string) => `${formatDuration(Math.max(0, now - Date.parse(iso)))} ago`;
  const lines = [
    `${report.target}: ${report.status.toUpperCase()} (report of ${report.generatedAt}, ${report.store})`,
  ];

  const { newest } = report.backups;
  lines.push(
    newest
      ? `${label('backups')}${report.backups.count} verified; newest finished ${ago(newest.finishedAt)} (${formatBytes(newest.bytes)}, ${newest.key}); oldest ${report.backups.oldestFinishedAt}`
      : `${label('backups')}no verified backup`,
  );
  const width = Math.max(0, ...(report.backups.databases ?? []).map((d) => d.database.length));
  for (const database of report.backups.databases ?? []) {
    const newestOfIt = database.newest;
    const what = newestOfIt
      ? `${database.count} verified; newest started ${ago(newestOfIt.startedAt)} (${formatBytes(newestOfIt.bytes)}, ${newestOfIt.key})`
      : 'no verified backup';
    lines.push(
      `${more}${database.database.padEnd(width)}  ${DATABASE_STATUS[database.status].padEnd(8)}  ${what}`,
    );
  }
  if (report.backups.databases && report.backups.dueSince === null)
    lines.push(`${more}not judged against a schedule: no backup.schedule, or no scheduled run over yet`);
  if (report.retention.length > 0)
    lines.push(
      `${label('retention')}${report.retention
        .map((r) => `${r.rule} ${r.wanted}: ${r.met ? 'met' : 'NOT MET'} (${r.have} ${RULE_UNITS[r.rule]})`)
        .join('; ')}`,
    );
  const lock = report.objectLock.configured;
  lines.push(
    `${label('lock')}${
      lock
        ? `${lock.mode} ${lock.days} days; newest backup ${report.objectLock.newestLocked ? `locked until ${newest?.lockedUntil}` : 'NOT LOCKED'}`
        : 'not configured (backup.objectLock)'
    }`,
  );
  const { copies } = report;
  lines.push(
    `${label('copies')}${
      copies.configured.length === 0
        ? 'none configured (backup.copies)'
        : copies.configured
            .map((region) => {
              const copy = newest?.copies.find((c) => c.region === region);
              return copy ? `${region} verified ${copy.verifiedAt}` : `${region} MISSING`;
            })
            .join('; ')
    }`,
  );

  const { drills } = report;
  const last = drills.last;
  lines.push(
    `${label('drills')}${drills.rto ? `RTO ${drills.rto}` : 'no RTO set (restore.drill.rto)'}; ${
      last ? `last ${last.status} ${ago(last.finishedAt)}, ${against(last)}` : 'no drill recorded'
    }`,
  );
  if (drills.total > 0) {
    lines.push(
      `${more}${drills.total} drill(s): ${drills.passed} passed, ${drills.failed} failed, ${drills.rtoExceeded} over RTO; fastest ${formatDuration(drills.fastestMs ?? 0)}, slowest ${formatDuration(drills.slowestMs ?? 0)}`,
    );
    for (const drill of drills.recent)
      lines.push(
        `${more}${drill.startedAt ?? drill.finishedAt}  ${drill.status.padEnd(12)}  ${formatDuration(drill.durationMs).padStart(9)}  ${drill.backupKey ?? drill.error ?? ''}`,
      );
  }

  const { health } = report;
  if (!health) lines.push(`${label('health')}no stored health state (health has not run with this store)`);
  else {
    const c = health.counts;
    lines.push(
      `${label('health')}${health.status} at the last run ${ago(health.updatedAt)}: ${c.ok} ok, ${c.warning} warning, ${c.critical} critical, ${c.unknown} unknown, ${c.skipped} skipped`,
    );
    for (const problem of health.problems)
      lines.push(`${more}${problem.status.padEnd(8)}  ${problem.check} since ${problem.since}`);
  }
  if (report.findings.length > 0) {
    lines.push(`${label('findings')}${report.findings[0]}`);
    for (const finding of report.findings.slice(1)) lines.push(`${more}${finding}`);
  }
  return lines.join('\n');
}

function against(drill: ReportDrill): string {
  const took = `took ${formatDuration(drill.durationMs)}`;
  if (drill.rtoMs === undefined) return took;
  return `${took} against an RTO of ${drill.rto} (${drill.durationMs <= drill.rtoMs ? 'met' : 'EXCEEDED'})`;
}
