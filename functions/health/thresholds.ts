import type { HealthConfig } from '../shared/config/schema';
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
  duration: 'a duration like "5 minutes" or "100 ms"',
  percent: 'a percentage like "80%"',
  size: 'a size like "5 GB"',
  count: 'a whole number',
};

/** One threshold in the check's unit; a plain number is taken as already in that unit. */
export function parseThreshold(
  kind: ThresholdKind,
  unit: CheckUnit,
  raw: string | number,
  maxPercent = 100,
): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw : undefined;
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
    case 'count': {
      const match = COUNT_PATTERN.exec(raw);
      return match?.[1] ? Number(match[1]) : undefined;
    }
  }
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
  config: HealthConfig | undefined,
  targetName: string,
): { thresholds: Map<string, ResolvedThresholds>; problems: string[] } {
  const problems: string[] = [];
  const overrides = config?.thresholds ?? {};
  const base = `targets.${targetName}.health.thresholds`;
  const known = new Set(checks.map((c) => c.name));
  for (const name of Object.keys(overrides)) {
    if (!known.has(name)) problems.push(`${base}.${name}: unknown check (known: ${[...known].join(', ')})`);
  }
  const thresholds = new Map<string, ResolvedThresholds>();
  for (const check of checks) {
    const override = overrides[check.name] ?? {};
    const path = `${base}.${check.name}`;
    const level = (key: 'warning' | 'critical'): { value: number | null; text: string | null } => {
      const raw = override[key] !== undefined ? override[key] : check.defaults[key];
      if (raw === null || raw === undefined) return { value: null, text: null };
      const value = parseThreshold(check.kind, check.unit, raw, check.maxPercent);
      if (value === undefined) {
        problems.push(`${path}.${key}: expected ${EXPECTED[check.kind]} or null, got ${JSON.stringify(raw)}`);
        return { value: null, text: null };
      }
      return { value, text: String(raw) };
    };
    if (override.minSize !== undefined && check.defaults.minSize === undefined)
      problems.push(`${path}.minSize: ${check.name} has no size floor`);
    if (override.inactiveFor !== undefined && check.defaults.inactiveFor === undefined)
      problems.push(`${path}.inactiveFor: only replication_slots takes inactiveFor`);
    if (override.minimumVersions !== undefined && check.name !== 'server_version')
      problems.push(`${path}.minimumVersions: only server_version takes minimumVersions`);
    if (override.expect !== undefined && check.name !== 'settings')
      problems.push(`${path}.expect: only settings takes expect`);
    const minSize = override.minSize ?? check.defaults.minSize;
    const inactiveFor = override.inactiveFor ?? check.defaults.inactiveFor;
    const warning = level('warning');
    const critical = level('critical');
    thresholds.set(check.name, {
      parsed: {
        warning: warning.value,
        critical: critical.value,
        minSizeBytes: minSize === undefined ? null : (parseSizeBytes(minSize) ?? null),
        inactiveForSeconds: inactiveFor === undefined ? null : (parseIntervalSeconds(inactiveFor) ?? null),
      },
      text: { warning: warning.text, critical: critical.text },
    });
  }
  return { thresholds, problems };
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
