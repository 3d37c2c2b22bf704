import { errorMessage } from '../shared/errors';
import type { CheckResult, CheckUnit, HealthCheck, OverallStatus } from './check';
import { STATUS_ORDER } from './check';
import { isShare, parseThreshold } from './thresholds';

/**
 * The Nagios plugin convention (Nagios Plugin Development Guidelines): the first line is
 * `SERVICE STATUS - text | perfdata`, what Nagios and Icinga show and graph; the rest is long text.
 */
export const NAGIOS_SERVICE = 'PGMAINT';

/** Perfdata units: sizes in bytes, durations in seconds, shares with %. */
const UOM: Record<CheckUnit, string> = { ms: 's', seconds: 's', percent: '%', bytes: 'B', count: '' };

/** `|` separates text from perfdata in the first line; a `|` in a message (a query) must not. */
export function pluginText(text: string): string {
  return text.replace(/\|/g, '¦').replace(/\s*\n\s*/g, ' ');
}

/** `'name'=value[UOM];warn;crit;min;max` for every check that measured a number. */
export function perfdata(checks: readonly CheckResult[], definitions: readonly HealthCheck[]): string {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  return checks
    .flatMap((check) => {
      const definition = byName.get(check.name);
      if (check.value === null || check.unit === null || !definition) return [];
      const scale = check.unit === 'ms' ? 1 / 1000 : 1;
      const limit = (text: string | null) => {
        // A share ("80%" of max_connections) of a value that is a count has no count to print.
        if (text === null || isShare(definition.kind, text)) return '';
        const parsed = parseThreshold(definition.kind, definition.unit, text, definition.maxPercent);
        if (parsed === undefined) return '';
        const value = number(parsed * scale);
        // Lower is worse: Nagios reads "N:" as "alert below N".
        return definition.direction === 'below' ? `${value}:` : value;
      };
      const max = check.unit === 'percent' && (definition.maxPercent ?? 100) <= 100 ? '100' : '';
      return [
        `'${check.name}'=${number(check.value * scale)}${UOM[check.unit]};${limit(check.thresholds.warning)};${limit(check.thresholds.critical)};0;${max}`,
      ];
    })
    .join(' ');
}

function number(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

const SEVERITY = (status: CheckResult['status']) =>
  status === 'skipped' ? -1 : STATUS_ORDER.indexOf(status as OverallStatus);

/** `PGMAINT WARNING - idle_in_transaction: 1 session(s) idle ... , +2 more | 'connection'=0.011s;1;;0; ...` */
export function nagiosFirstLine(
  status: OverallStatus,
  checks: readonly CheckResult[],
  definitions: readonly HealthCheck[],
): string {
  const problems = checks
    .filter((c) => c.status !== 'ok' && c.status !== 'skipped')
    .sort((a, b) => SEVERITY(b.status) - SEVERITY(a.status));
  const [worst, ...others] = problems;
  const skipped = checks.filter((c) => c.status === 'skipped').length;
  const text = worst
    ? `${worst.name}: ${worst.message}${others.length > 0 ? `, +${others.length} more` : ''}`
    : `${checks.length - skipped} check(s) ok${skipped > 0 ? `, ${skipped} skipped` : ''}`;
  const data = perfdata(checks, definitions);
  return `${NAGIOS_SERVICE} ${status.toUpperCase()} - ${pluginText(text)}${data ? ` | ${data}` : ''}`;
}

/** The first line when the run produced no result: Nagios shows stdout, never stderr. */
export function nagiosErrorLine(status: OverallStatus, error: unknown): string {
  return `${NAGIOS_SERVICE} ${status.toUpperCase()} - ${pluginText(errorMessage(error))}`;
}
