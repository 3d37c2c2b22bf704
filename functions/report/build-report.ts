import { periodIndex } from '../backup/backup-calendar';
import { keepReasons, type RetentionPolicy } from '../backup/prune-backups';
import { type BackupManifest, backupSeries, bySeries, listBackups } from '../shared/backup-catalog';
import type { TargetConfig } from '../shared/config/schema';
import { backupSection } from '../shared/config/sections';
import { errorMessage } from '../shared/errors';
import { formatInZone } from '../shared/schedule';
import type { ObjectStore } from '../shared/store';
import {
  type DrillRecord,
  drillHistoryPrefix,
  drillRecordKey,
  drillRecordSchema,
  type HealthState,
  healthStateKey,
  healthStateSchema,
  parseStored,
} from '../shared/store/layout';
import { type BackupDue, backupDueSince } from './backup-due';

const DAY_MS = 86_400_000;

export type RetentionRuleName =
  | 'keepAtLeast'
  | 'retentionDays'
  | 'keepDaily'
  | 'keepWeekly'
  | 'keepMonthly'
  | 'keepYearly';

/** One retention rule of the target and whether the store holds what it promises. */
export interface RetentionRuleStatus {
  readonly rule: RetentionRuleName;
  /** The rule's number: backups, days, or calendar periods. */
  readonly wanted: number;
  /** keepAtLeast: backups; retentionDays: days the backups cover; calendar rules: periods with a backup. */
  readonly have: number;
  readonly met: boolean;
}

export interface ReportBackup {
  readonly key: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ageSeconds: number;
  readonly bytes: number;
  readonly lockedUntil?: string;
  readonly lockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  readonly copies: ReadonlyArray<{ region: string; bucket: string; verifiedAt: string }>;
}

/** A target with `databases`: one database's backups. */
export interface DatabaseBackups {
  readonly database: string;
  /**
   * ok: its newest backup is from the last scheduled run that should be over, or later (or there is
   * no schedule to judge by); overdue: older than that; missing: named in `databases`, no verified
   * backup; left-out: backups of a database the target no longer backs up (not in the list, or in
   * `exclude`), not judged.
   */
  readonly status: 'ok' | 'overdue' | 'missing' | 'left-out';
  readonly count: number;
  readonly newest: ReportBackup | null;
}

export interface ReportDrill {
  readonly startedAt?: string;
  readonly finishedAt: string;
  readonly status: DrillRecord['status'];
  readonly backupKey: string | null;
  readonly durationMs: number;
  readonly rto?: string;
  readonly rtoMs?: number;
  readonly error?: string;
}

/** Everything an auditor asks about one target, read from the store alone. */
export interface TargetReport {
  readonly target: string;
  /** ok: every rule, lock, copy, the last drill and health are as configured; attention: see findings. */
  readonly status: 'ok' | 'attention';
  readonly generatedAt: string;
  readonly store: string;
  /** What is not as it should be, one line each; empty when status is ok. */
  readonly findings: readonly string[];
  readonly backups: {
    readonly count: number;
    readonly newest: ReportBackup | null;
    readonly oldestFinishedAt: string | null;
    /**
     * A target with `databases`: each database's newest backup, by name ("*": those the store holds
     * backups of; the FAILED alert of the run names one that was never backed up).
     */
    readonly databases?: readonly DatabaseBackups[];
    /**
     * A target with `databases` and a backup schedule: each database's newest backup must have
     * started at or after this (the last scheduled run that should be over; for rate(), the
     * interval plus the time a run may take).
     */
    readonly dueSince?: string | null;
  };
  readonly retention: readonly RetentionRuleStatus[];
  readonly objectLock: {
    readonly configured: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number } | null;
    /** Whether the newest verified backup is locked now. */
    readonly newestLocked: boolean;
  };
  readonly copies: {
    readonly configured: readonly string[];
    /** Regions the newest verified backup has a verified copy in. */
    readonly newestCopiedTo: readonly string[];
    readonly missing: readonly string[];
  };
  readonly drills: {
    readonly rto: string | null;
    readonly last: ReportDrill | null;
    /** Every kept drill record. */
    readonly total: number;
    readonly passed: number;
    readonly failed: number;
    readonly rtoExceeded: number;
    /** The newest drills, newest first (at most `recentDrills`). */
    readonly recent: readonly ReportDrill[];
    readonly slowestMs: number | null;
    readonly fastestMs: number | null;
  };
  readonly health: {
    readonly updatedAt: string;
    readonly ageSeconds: number;
    /** The worst status of the last health run. */
    readonly status: 'ok' | 'warning' | 'critical' | 'unknown';
    readonly counts: Readonly<Record<'ok' | 'warning' | 'critical' | 'unknown' | 'skipped', number>>;
    /** Checks not ok (skipped ones left out), worst first, with since when. */
    readonly problems: ReadonlyArray<HealthProblem>;
  } | null;
  /** Stored objects that could not be read (a damaged drill record): named, not hidden. */
  readonly unreadable: readonly string[];
}

export interface HealthProblem {
  readonly check: string;
  readonly status: 'warning' | 'critical' | 'unknown';
  readonly since: string;
}

export interface ReportInput {
  readonly store: ObjectStore;
  readonly targetName: string;
  readonly target: TargetConfig;
  readonly now: Date;
  /** How many of the newest drills to list. */
  readonly recentDrills: number;
  readonly warn: (message: string) => void;
}

export async function buildReport(input: ReportInput): Promise<TargetReport> {
  const { store, targetName, target, now } = input;
  const unreadable: string[] = [];
  const backups = await listBackups(store, targetName, (message) => {
    unreadable.push(message);
    input.warn(message);
  });
  const policy = backupSection.parse(target.backup ?? {});
  const newest = backups[0];
  const nowMs = now.getTime();
  // A database the target no longer backs up keeps its backups listed, not judged: its series
  // must not decide whether the target's rules are met.
  const judged = backups.filter((b) => !isLeftOut(target, backupSeries(b)));
  const retention =
    backups.length > 0 || target.backup ? retentionOfEverySeries(judged, policy, now, target.timezone) : [];
  const lock = target.backup?.objectLock ?? null;
  const newestLocked = newest?.lockedUntil !== undefined && Date.parse(newest.lockedUntil) > nowMs;
  const configuredCopies = (target.backup?.copies ?? []).map((c) => c.region);
  const newestCopiedTo = (newest?.copies ?? []).map((c) => c.region);
  const missingCopies = configuredCopies.filter((region) => !newestCopiedTo.includes(region));
  const drills = await readDrills(store, targetName, unreadable, input.warn);
  const health = await readHealth(store, targetName, nowMs, unreadable, input.warn);
  const rto = target.restore?.drill?.rto ?? null;
  const last = drills[0] ?? null;

  const due = backupDueSince(target.backup?.schedule, target.timezone, now);
  const perDatabase =
    target.databases === undefined ? undefined : databaseBackups(backups, target, nowMs, due);

  const findings: string[] = [];
  const backedUp = backups.length > 0 || target.backup !== undefined;
  if (backedUp) {
    if (!newest) findings.push('no verified backup');
    for (const database of perDatabase ?? [])
      if (database.status === 'missing') findings.push(`database "${database.database}": no verified backup`);
      else if (database.status === 'overdue' && database.newest && due)
        findings.push(
          `database "${database.database}": newest backup started ${database.newest.startedAt}, before ${
            due.run
              ? `the scheduled run of ${formatInZone(due.run, target.timezone)}`
              : formatInZone(due.since, target.timezone)
          } (backup.schedule ${target.backup?.schedule})`,
        );
    for (const rule of retention.filter((r) => !r.met))
      findings.push(`${rule.rule} ${rule.wanted} not met (${rule.have})`);
    if (lock && newest && !newestLocked) findings.push('the newest backup is not locked (backup.objectLock)');
    if (missingCopies.length > 0)
      findings.push(`the newest backup has no verified copy in ${missingCopies.join(', ')}`);
    if (!last) findings.push('no restore drill recorded');
    else if (last.status !== 'passed') findings.push(`the last restore drill ${last.status}`);
  }
  if (health && (health.status === 'critical' || health.status === 'warning'))
    findings.push(`health ${health.status}: ${health.problems.map((p) => p.check).join(', ')}`);
  for (const object of unreadable) findings.push(`unreadable: ${object}`);

  const durations = drills.map((d) => d.durationMs);
  return {
    target: targetName,
    status: findings.length === 0 ? 'ok' : 'attention',
    generatedAt: now.toISOString(),
    store: store.location,
    findings,
    backups: {
      count: backups.length,
      newest: newest ? reportBackup(newest, nowMs) : null,
      oldestFinishedAt: backups.at(-1)?.finishedAt ?? null,
      ...(perDatabase ? { databases: perDatabase, dueSince: due?.since.toISOString() ?? null } : {}),
    },
    retention,
    objectLock: { configured: lock, newestLocked },
    copies: { configured: configuredCopies, newestCopiedTo, missing: missingCopies },
    drills: {
      rto,
      last,
      total: drills.length,
      passed: drills.filter((d) => d.status === 'passed').length,
      failed: drills.filter((d) => d.status === 'failed').length,
      rtoExceeded: drills.filter((d) => d.status === 'rto-exceeded').length,
      recent: drills.slice(0, input.recentDrills),
      slowestMs: durations.length > 0 ? Math.max(...durations) : null,
      fastestMs: durations.length > 0 ? Math.min(...durations) : null,
    },
    health,
    unreadable,
  };
}

/**
 * Each database's backups, by name: those `databases` lists (or, with "*", those the store holds
 * backups of), each judged against the schedule; backups of a database no longer backed up are
 * listed, not judged. Backups from before the target named `databases` are no database's series.
 */
function databaseBackups(
  backups: readonly BackupManifest[],
  target: TargetConfig,
  nowMs: number,
  due: BackupDue | undefined,
): DatabaseBackups[] {
  const series = bySeries(backups);
  series.delete('');
  const listed = target.databases === '*' ? undefined : target.databases;
  const names = [...new Set([...(listed ?? []), ...series.keys()])].sort((a, b) => a.localeCompare(b));
  return names.map((database) => {
    const own = series.get(database) ?? [];
    const newest = own[0];
    const status = isLeftOut(target, database)
      ? 'left-out'
      : !newest
        ? 'missing'
        : due && Date.parse(newest.startedAt) < due.since.getTime()
          ? 'overdue'
          : 'ok';
    return { database, status, count: own.length, newest: newest ? reportBackup(newest, nowMs) : null };
  });
}

/**
 * Whether a series holds backups of a database the target no longer backs up: not in its
 * `databases` list, or in `exclude` with "*". The series of a target without `databases`, and the
 * backups from before it named them (series ""), are never left out.
 */
function isLeftOut(target: TargetConfig, series: string): boolean {
  if (target.databases === undefined || series === '') return false;
  return target.databases === '*'
    ? (target.exclude ?? []).includes(series)
    : !target.databases.includes(series);
}

function reportBackup(manifest: BackupManifest, nowMs: number): ReportBackup {
  return {
    key: manifest.key,
    startedAt: manifest.startedAt,
    finishedAt: manifest.finishedAt,
    ageSeconds: Math.round((nowMs - Date.parse(manifest.finishedAt)) / 1000),
    bytes: manifest.bytes,
    ...(manifest.lockedUntil ? { lockedUntil: manifest.lockedUntil } : {}),
    ...(manifest.lockMode ? { lockMode: manifest.lockMode } : {}),
    copies: (manifest.copies ?? []).map((c) => ({
      region: c.region,
      bucket: c.bucket,
      verifiedAt: c.verifiedAt,
    })),
  };
}

const CALENDAR = [
  ['keepDaily', 'day'],
  ['keepWeekly', 'week'],
  ['keepMonthly', 'month'],
  ['keepYearly', 'year'],
] as const;

/**
 * Whether the backups kept are the ones each rule promises. keepAtLeast: that many verified
 * backups. retentionDays: the backups reach back that far, give or take the usual interval
 * between two backups (pruning removes the one just beyond). keepDaily/Weekly/Monthly/Yearly N:
 * each of the last N periods has a backup, the current one excepted while it has none yet.
 */
export function retentionStatus(
  backups: readonly BackupManifest[],
  policy: RetentionPolicy,
  now: Date,
  timeZone: string,
): RetentionRuleStatus[] {
  const reasons = keepReasons(backups, policy, now, timeZone);
  const keptBy = (rule: RetentionRuleName) =>
    backups.filter((b) => reasons.get(b.key)?.includes(rule)).length;
  const rules: RetentionRuleStatus[] = [
    {
      rule: 'keepAtLeast',
      wanted: policy.keepAtLeast,
      have: backups.length,
      met: backups.length >= policy.keepAtLeast,
    },
  ];
  const oldest = backups.at(-1);
  const coveredDays = oldest
    ? (now.getTime() - Date.parse(oldest.startedAt)) / DAY_MS + typicalIntervalDays(backups)
    : 0;
  rules.push({
    rule: 'retentionDays',
    wanted: policy.retentionDays,
    have: Math.round(Math.min(coveredDays, policy.retentionDays) * 10) / 10,
    met: coveredDays >= policy.retentionDays,
  });
  for (const [rule, period] of CALENDAR) {
    const wanted = policy[rule];
    if (!wanted) continue;
    const have = keptBy(rule);
    const current = periodIndex(now, period, timeZone);
    const currentHasOne = backups.some(
      (b) => periodIndex(new Date(b.startedAt), period, timeZone) === current,
    );
    rules.push({ rule, wanted, have, met: have >= wanted || (!currentHasOne && have >= wanted - 1) });
  }
  return rules;
}

/**
 * A target with `databases` keeps each database's backups by the rules on its own: a rule is met
 * when every database the target backs up meets it, and `have` is the least any of them has.
 */
function retentionOfEverySeries(
  backups: readonly BackupManifest[],
  policy: RetentionPolicy,
  now: Date,
  timeZone: string,
): RetentionRuleStatus[] {
  const perSeries = [...bySeries(backups).values()].map((series) =>
    retentionStatus(series, policy, now, timeZone),
  );
  const [first = retentionStatus([], policy, now, timeZone), ...others] = perSeries;
  return first.map((rule, i) => {
    const same = [rule, ...others.map((o) => o[i] ?? rule)];
    return { ...rule, have: Math.min(...same.map((r) => r.have)), met: same.every((r) => r.met) };
  });
}

/** The median time between consecutive backups, in days (0 with fewer than two). */
function typicalIntervalDays(backups: readonly BackupManifest[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < backups.length; i++) {
    const newer = backups[i - 1];
    const older = backups[i];
    if (newer && older) gaps.push((Date.parse(newer.startedAt) - Date.parse(older.startedAt)) / DAY_MS);
  }
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] ?? 0;
}

/** Every kept drill record, newest first; before the history existed, the one latest record. */
async function readDrills(
  store: ObjectStore,
  target: string,
  unreadable: string[],
  warn: (message: string) => void,
): Promise<ReportDrill[]> {
  const keys = (await store.list(drillHistoryPrefix(target)))
    .map((o) => o.key)
    .filter((key) => key.endsWith('.json'))
    .sort((a, b) => b.localeCompare(a));
  if (keys.length === 0) keys.push(drillRecordKey(target));
  const drills: ReportDrill[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (!body) continue;
    try {
      drills.push(reportDrill(parseStored(drillRecordSchema, store.location, key, body)));
    } catch (error) {
      unreadable.push(errorMessage(error));
      warn(`skipped: ${errorMessage(error)}`);
    }
  }
  return drills;
}

function reportDrill(record: DrillRecord): ReportDrill {
  return {
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    finishedAt: record.finishedAt,
    status: record.status,
    backupKey: record.backupKey,
    durationMs: record.durationMs,
    ...(record.rto !== undefined ? { rto: record.rto } : {}),
    ...(record.rtoMs !== undefined ? { rtoMs: record.rtoMs } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

const HEALTH_ORDER = ['critical', 'warning', 'unknown', 'ok', 'skipped'] as const;

async function readHealth(
  store: ObjectStore,
  target: string,
  nowMs: number,
  unreadable: string[],
  warn: (message: string) => void,
): Promise<TargetReport['health']> {
  const key = healthStateKey(target);
  const body = await store.get(key);
  if (!body) return null;
  let state: HealthState;
  try {
    state = parseStored(healthStateSchema, store.location, key, body);
  } catch (error) {
    unreadable.push(errorMessage(error));
    warn(`skipped: ${errorMessage(error)}`);
    return null;
  }
  const counts = { ok: 0, warning: 0, critical: 0, unknown: 0, skipped: 0 };
  const problems: HealthProblem[] = [];
  for (const [check, { status, since }] of Object.entries(state.checks)) {
    counts[status] += 1;
    if (status !== 'ok' && status !== 'skipped') problems.push({ check, status, since });
  }
  problems.sort(
    (a, b) =>
      HEALTH_ORDER.indexOf(a.status) - HEALTH_ORDER.indexOf(b.status) || a.check.localeCompare(b.check),
  );
  const worst = HEALTH_ORDER.find((status) => status !== 'skipped' && counts[status] > 0) ?? 'ok';
  return {
    updatedAt: state.updatedAt,
    ageSeconds: Math.round((nowMs - Date.parse(state.updatedAt)) / 1000),
    status: worst === 'skipped' ? 'ok' : worst,
    counts,
    problems,
  };
}
