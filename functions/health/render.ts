import { formatBytes, formatDuration } from '../shared/units';
import type { CheckResult } from './check';
import { HEALTH_CHECKS } from './checks';
import type { HealthResult } from './definition';
import { nagiosFirstLine } from './nagios';

export function formatValue(check: Pick<CheckResult, 'value' | 'unit'>): string {
  const { value, unit } = check;
  if (value === null || unit === null) return '-';
  switch (unit) {
    case 'ms':
      return formatDuration(value);
    case 'seconds':
      return formatDuration(value * 1000);
    case 'percent':
      return `${value}%`;
    case 'bytes':
      return formatBytes(value);
    case 'count':
      return value.toLocaleString('en-US');
  }
}

const MESSAGE_WIDTH = 100;

/**
 * The human view, which is also a Nagios plugin's output: the plugin's first line (status, worst
 * check, perfdata), then one table row per check, then what to do about each problem.
 */
export function renderHealth(result: HealthResult): string {
  const rows = result.checks.map((c) => [
    c.status,
    c.name,
    formatValue(c),
    formatThresholds(c),
    shorten(c.message),
  ]);
  const header = ['STATUS', 'CHECK', 'VALUE', 'THRESHOLDS', 'MESSAGE'];
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(header[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < 4 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd();
  const out = [
    nagiosFirstLine(result.status, result.checks, HEALTH_CHECKS),
    `${result.target}: ${result.status.toUpperCase()} (${result.checks.length} checks in ${Math.round(result.durationMs)} ms)`,
    '',
    line(header),
    ...rows.map(line),
  ];
  const problems = result.checks.filter((c) => c.recommendation);
  if (problems.length > 0) {
    out.push('', 'What to do:');
    for (const check of problems) out.push(`  ${check.name} (${check.status}): ${check.recommendation}`);
  }
  return out.join('\n');
}

/** "warn 80% crit 95%", as configured (or the defaults), so a reader sees what each status means. */
export function formatThresholds(check: Pick<CheckResult, 'thresholds'>): string {
  const { warning, critical } = check.thresholds;
  const parts = [warning === null ? '' : `warn ${warning}`, critical === null ? '' : `crit ${critical}`];
  return parts.filter(Boolean).join(' ') || '-';
}

function shorten(text: string): string {
  return text.length <= MESSAGE_WIDTH ? text : `${text.slice(0, MESSAGE_WIDTH - 3)}...`;
}
