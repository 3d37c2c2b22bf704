import type { HealthConfig, TargetConfig } from '../shared/config/schema';
import { parseIntervalSeconds, parsePercent, parseSizeBytes } from '../shared/units';
import type {
  CheckStatus,
  CheckUnit,
  HealthCheck,
  ParsedThresholds,
  ThresholdKind,
  ThresholdText,
} from './check';

const MS_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?)\s*$/i;
const COUNT_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*$/;

/** Seconds, accepting "100 ms" too (slow queries are measured in milliseconds). */
function parseDurationSeconds(text: string): number | undefined {
  const ms = MS_PATTERN.exec(text);
  if (ms?.[1]) return Number(ms[1]) / 1000;
  return parseIntervalSeconds(text);
}

const EXPECTED: Record<ThresholdKind, string> = {
  duration: 'a duration like "5 minutes" or "100 ms" (units: ms, seconds, minutes, hours, days, weeks)',
  percent: 'a percentage like "80%"',
  size: 'a size like "5 GB" (units: B, kB, MB, GB, TB)',
  count: 'a whole number',
  'count-or-share': 'a number like 50, or a share like "80%"',
};

/** What a plain number would have to be written as, for kinds where a bare number has no unit. */
const WITH_UNIT: Partial<Record<ThresholdKind, (n: number) => string>> = {
  duration: (n) => `"${n} seconds" or "${n} ms"`,
  percent: (n) => `"${n}%"`,
  size: (n) => `"${n} MB"`,
};

/**
 * One threshold in the check's unit. A plain number is accepted only where it cannot be misread:
 * a count (`connections: 50` is 50 connections; a share is written "50%").
 */
export function parseThreshold(
  kind: ThresholdKind,
  unit: CheckUnit,
  raw: string | number,
  maxPercent = 100,
): number | undefined {
  if (typeof raw === 'number') {
    if (kind !== 'count' && kind !== 'count-or-share') return undefined;
    return Number.isFinite(raw) && raw >= 0 ? raw : undefined;
  }
  switch (kind) {
    case 'duration': {
      const seconds = parseDurationSeconds(raw);
      if (seconds === undefined) return undefined;
      return unit === 'ms' ? seconds * 1000 : seconds;
    }
    case 'percent':
      return parsePercent(raw, maxPercent);
    case 'size':
      return parseSizeBytes(raw);
    case 'count-or-share':
      return isShare(kind, raw) ? parsePercent(raw) : parseCount(raw);
    case 'count':
      return parseCount(raw);
  }
}

/** Whether a threshold is a share of the check's total ("80%" of max_connections) rather than a count. */
export function isShare(kind: ThresholdKind, raw: string | number): boolean {
  return kind === 'count-or-share' && typeof raw === 'string' && raw.includes('%');
}

function parseCount(raw: string): number | undefined {
  const match = COUNT_PATTERN.exec(raw);
  return match?.[1] ? Number(match[1]) : undefined;
}

type Overrides = NonNullable<HealthConfig['thresholds']>;

/** A problem in `health.thresholds`, its path relative to that object. */
export interface ThresholdIssue {
  readonly path: readonly string[];
  readonly message: string;
}

/**
 * Every problem with the overrides, checked against the checks' own units: unknown checks,
 * thresholds in the wrong unit (or without one), floors on checks that have none. Needs no
 * database, so the config loader runs it.
 */
export function thresholdIssues(checks: readonly HealthCheck[], overrides: Overrides): ThresholdIssue[] {
  const issues: ThresholdIssue[] = [];
  const known = new Map(checks.map((c) => [c.name, c]));
  for (const [name, override] of Object.entries(overrides)) {
    const check = known.get(name);
    if (!check) {
      issues.push({ path: [name], message: `unknown check (known: ${[...known.keys()].join(', ')})` });
      continue;
    }
    for (const level of ['warning', 'critical'] as const) {
      const raw = override[level];
      if (raw === null || raw === undefined) continue;
      if (parseThreshold(check.kind, check.unit, raw, check.maxPercent) !== undefined) continue;
      const hint = typeof raw === 'number' ? WITH_UNIT[check.kind]?.(raw) : undefined;
      issues.push({
        path: [name, level],
        message: hint
          ? `a plain number has no unit here: write ${hint} (or null)`
          : `expected ${EXPECTED[check.kind]} or null, got ${JSON.stringify(raw)}`,
      });
    }
    const ordering = orderingProblem(check, override);
    if (ordering) issues.push({ path: [name], message: ordering });
    if (override.minSize !== undefined && check.defaults.minSize === undefined)
      issues.push({ path: [name, 'minSize'], message: `${check.name} has no size floor` });
    if (override.inactiveFor !== undefined && check.defaults.inactiveFor === undefined)
      issues.push({ path: [name, 'inactiveFor'], message: 'only replication_slots takes inactiveFor' });
    if (override.minimumVersions !== undefined && check.name !== 'server_version')
      issues.push({ path: [name, 'minimumVersions'], message: 'only server_version takes minimumVersions' });
    if (override.expect !== undefined && check.name !== 'settings')
      issues.push({ path: [name, 'expect'], message: 'only settings takes expect' });
  }
  return issues;
}

/** A warning that can never show because critical is reached first (defaults count too). */
function orderingProblem(check: HealthCheck, override: Overrides[string]): string | undefined {
  const raw = (level: 'warning' | 'critical') =>
    override[level] !== undefined ? override[level] : check.defaults[level];
  const warning = raw('warning');
  const critical = raw('critical');
  if (warning === null || warning === undefined || critical === null || critical === undefined)
    return undefined;
  if (isShare(check.kind, warning) !== isShare(check.kind, critical)) return undefined;
  const w = parseThreshold(check.kind, check.unit, warning, check.maxPercent);
  const c = parseThreshold(check.kind, check.unit, critical, check.maxPercent);
  if (w === undefined || c === undefined) return undefined;
  const below = check.direction === 'below';
  if (below ? w > c : w < c) return undefined;
  const source = (level: 'warning' | 'critical') => (override[level] !== undefined ? '' : ' (the default)');
  return `warning ${JSON.stringify(warning)}${source('warning')} must be ${below ? 'above' : 'below'} critical ${JSON.stringify(critical)}${source('critical')}, or the warning never shows`;
}

export interface ResolvedThresholds {
  readonly parsed: ParsedThresholds;
  readonly text: ThresholdText;
}

/**
 * Every check's thresholds, defaults overridden by `targets.T.health.thresholds`. All problems
 * are collected and returned at once, each naming its config path.
 */
export function resolveThresholds(
  checks: readonly HealthCheck[],
  target: Pick<TargetConfig, 'health' | 'reindex'> | undefined,
  targetName: string,
): { thresholds: Map<string, ResolvedThresholds>; problems: string[] } {
  const overrides = target?.health?.thresholds ?? {};
  const base = `targets.${targetName}.health.thresholds`;
  const problems = thresholdIssues(checks, overrides).map(
    (issue) => `${[base, ...issue.path].join('.')}: ${issue.message}`,
  );
  const thresholds = new Map<string, ResolvedThresholds>();
  for (const check of checks) {
    const override = overrides[check.name] ?? {};
    const level = (key: 'warning' | 'critical') => {
      const raw = override[key] !== undefined ? override[key] : check.defaults[key];
      const value =
        raw === null || raw === undefined
          ? undefined
          : parseThreshold(check.kind, check.unit, raw, check.maxPercent);
      if (raw === null || raw === undefined || value === undefined)
        return { value: null, share: false, text: null };
      return { value, share: isShare(check.kind, raw), text: String(raw) };
    };
    const minSize = override.minSize ?? check.floor?.(target) ?? check.defaults.minSize;
    const inactiveFor = override.inactiveFor ?? check.defaults.inactiveFor;
    const warning = level('warning');
    const critical = level('critical');
    thresholds.set(check.name, {
      parsed: {
        warning: warning.value,
        critical: critical.value,
        ...(check.kind === 'count-or-share'
          ? { share: { warning: warning.share, critical: critical.share } }
          : {}),
        minSizeBytes: minSize === undefined ? null : (parseSizeBytes(minSize) ?? null),
        inactiveForSeconds: inactiveFor === undefined ? null : (parseIntervalSeconds(inactiveFor) ?? null),
      },
      text: { warning: warning.text, critical: critical.text },
    });
  }
  return { thresholds, problems };
}

/** A count-or-share check's limits as counts, once the measurement says what the total is. */
export function limitsFor(
  thresholds: ParsedThresholds,
  total: number | undefined,
): Pick<ParsedThresholds, 'warning' | 'critical'> {
  const limit = (value: number | null, share: boolean | undefined) =>
    value !== null && share && total !== undefined ? (value / 100) * total : value;
  return {
    warning: limit(thresholds.warning, thresholds.share?.warning),
    critical: limit(thresholds.critical, thresholds.share?.critical),
  };
}

/** ok / warning / critical for a value; "above" checks alert at or over, "below" at or under. */
export function evaluate(
  value: number | null,
  thresholds: Pick<ParsedThresholds, 'warning' | 'critical'>,
  direction: 'above' | 'below' = 'above',
): CheckStatus {
  if (value === null) return 'ok';
  const crosses = (limit: number | null) =>
    limit !== null && (direction === 'above' ? value >= limit : value < limit);
  if (crosses(thresholds.critical)) return 'critical';
  if (crosses(thresholds.warning)) return 'warning';
  return 'ok';
}
