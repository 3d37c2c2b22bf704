import { Cron } from 'croner';

/**
 * EventBridge Scheduler expressions: `cron(min hour day-of-month month day-of-week year)`,
 * `rate(N minutes|hours|days)` and one-off `at(yyyy-mm-ddThh:mm:ss)`. Validated here so a
 * typo fails `pgmaint validate` and `cdk synth`, not the deployment.
 */
export type ParsedSchedule =
  | { kind: 'cron'; expression: string; cronerPattern: string; years: YearFilter }
  | { kind: 'rate'; expression: string; seconds: number }
  | { kind: 'at'; expression: string; at: string };

type YearFilter = (year: number) => boolean;

const RATE_PATTERN = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/;
const AT_PATTERN = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;
const CRON_PATTERN = /^cron\((.+)\)$/;

export function parseSchedule(expression: string): ParsedSchedule | { error: string } {
  const text = expression.trim();
  const rate = RATE_PATTERN.exec(text);
  if (rate?.[1] && rate[2]) {
    const value = Number(rate[1]);
    const unit = rate[2];
    if (value < 1) return { error: 'a rate must be at least 1' };
    if (value === 1 && unit.endsWith('s'))
      return { error: `use "rate(1 ${unit.slice(0, -1)})" for a value of 1` };
    if (value > 1 && !unit.endsWith('s'))
      return { error: `use "rate(${value} ${unit}s)" for a value above 1` };
    const seconds = value * (unit.startsWith('minute') ? 60 : unit.startsWith('hour') ? 3600 : 86_400);
    return { kind: 'rate', expression: text, seconds };
  }
  const at = AT_PATTERN.exec(text);
  if (at?.[1]) {
    // Round-trip, because Date.parse accepts impossible days such as 30 February.
    const parsed = Date.parse(`${at[1]}Z`);
    if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 19) !== at[1]) {
      return { error: `"${at[1]}" is not a valid date-time` };
    }
    return { kind: 'at', expression: text, at: at[1] };
  }
  const cron = CRON_PATTERN.exec(text);
  if (cron?.[1]) return parseCron(text, cron[1]);
  return { error: 'expected cron(...), rate(...) or at(...) in EventBridge Scheduler syntax' };
}

function parseCron(expression: string, body: string): ParsedSchedule | { error: string } {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return {
      error: `cron() takes 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
    };
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return { error: 'cron() needs "?" in exactly one of day-of-month and day-of-week' };
  }
  const years = parseYears(year);
  if ('error' in years) return years;
  const cronerPattern = [minutes, hours, dayOfMonth, month, toCronerDayOfWeek(dayOfWeek)].join(' ');
  try {
    new Cron(cronerPattern, { paused: true });
  } catch (error) {
    return { error: `invalid cron fields: ${(error as Error).message.replace(/^CronPattern: /, '')}` };
  }
  return { kind: 'cron', expression, cronerPattern, years: years.filter };
}

/** EventBridge numbers days 1-7 from Sunday; croner numbers them 0-6. Names are the same. */
function toCronerDayOfWeek(field: string): string {
  if (field === '?' || field === '*') return field;
  return field.replace(/\d+/g, (digits, offset: number, whole: string) => {
    // The number after '#' is the nth occurrence, not a day.
    if (whole[offset - 1] === '#') return digits;
    const day = Number(digits);
    return day >= 1 && day <= 7 ? String(day - 1) : `invalid-day-${digits}`;
  });
}

function parseYears(field: string): { filter: YearFilter } | { error: string } {
  if (field === '*') return { filter: () => true };
  const parts = field.split(',');
  const ranges: Array<[number, number]> = [];
  for (const part of parts) {
    const match = /^(\d{4})(?:-(\d{4}))?$/.exec(part);
    if (!match?.[1]) return { error: `invalid year field "${field}"` };
    const from = Number(match[1]);
    ranges.push([from, match[2] ? Number(match[2]) : from]);
  }
  return { filter: (year) => ranges.some(([from, to]) => year >= from && year <= to) };
}

/** The next `count` run times after `from`, in the schedule's time zone. */
export function nextRuns(schedule: ParsedSchedule, timezone: string, count: number, from: Date): Date[] {
  if (schedule.kind === 'rate') {
    // A rate schedule starts when it is created; show the cadence from `from`.
    return Array.from(
      { length: count },
      (_, i) => new Date(from.getTime() + (i + 1) * schedule.seconds * 1000),
    );
  }
  if (schedule.kind === 'at') {
    const at = zonedDateToUtc(schedule.at, timezone);
    return at > from ? [at] : [];
  }
  const cron = new Cron(schedule.cronerPattern, { timezone, paused: true });
  // The same fields read on a wall clock that never changes: does a local time match them?
  const wallClock = new Cron(schedule.cronerPattern, { timezone: 'UTC', paused: true });
  const runs: Date[] = [];
  let cursor = from;
  for (let guard = 0; runs.length < count && guard < 1000; guard++) {
    const next = cron.nextRun(cursor);
    if (!next) break;
    cursor = next;
    if (!schedule.years(Number(formatInZone(next, timezone).slice(0, 4)))) continue;
    if (shiftedIntoExistence(wallClock, next, timezone) || repeatedWallClock(next, timezone)) continue;
    runs.push(next);
  }
  return runs;
}

const HOUR_MS = 3_600_000;
/**
 * How far back previousRuns looks, widening until it finds enough runs: an hour first (a frequent
 * schedule has hundreds of runs in a day), four years last (29 February).
 */
const LOOKBACK_HOURS = [1, 48, 15 * 24, 63 * 24, 367 * 24, 1462 * 24];

/**
 * The last `count` run times at or before `at`, newest first; fewer when the schedule has not run
 * that often. A rate schedule has no fixed times (it counts from when it was created): none.
 */
export function previousRuns(schedule: ParsedSchedule, timezone: string, count: number, at: Date): Date[] {
  if (schedule.kind === 'rate') return [];
  if (schedule.kind === 'at') {
    const once = zonedDateToUtc(schedule.at, timezone);
    return once <= at ? [once] : [];
  }
  for (const hours of LOOKBACK_HOURS) {
    const found = runsBetween(schedule, timezone, new Date(at.getTime() - hours * HOUR_MS), at);
    if (found.length >= count || hours === LOOKBACK_HOURS.at(-1)) return found.slice(-count).reverse();
  }
  return [];
}

/** Run times after `from` and at or before `to`, oldest first. */
function runsBetween(schedule: ParsedSchedule, timezone: string, from: Date, to: Date): Date[] {
  const CHUNK = 16;
  const found: Date[] = [];
  let cursor = from;
  for (;;) {
    const chunk = nextRuns(schedule, timezone, CHUNK, cursor);
    found.push(...chunk.filter((run) => run <= to));
    const last = chunk.at(-1);
    if (!last || last > to || chunk.length < CHUNK) return found;
    cursor = last;
  }
}

/** A local time as if it were UTC: `2027-03-28 02:00` in London becomes 2027-03-28T02:00Z. */
function wallClockAsUtc(date: Date, timezone: string): number {
  return Date.parse(`${formatInZone(date, timezone).slice(0, 16).replace(' ', 'T')}:00Z`);
}

/**
 * When the clocks go forward, a time in the skipped hour (01:30 in London on the last Sunday of
 * March) does not exist: EventBridge Scheduler skips that run, where croner moves it to the first
 * time after the gap (02:00), a time the expression does not name.
 */
function shiftedIntoExistence(wallClock: Cron, run: Date, timezone: string): boolean {
  const local = wallClockAsUtc(run, timezone);
  return wallClock.nextRun(new Date(local - 1000))?.getTime() !== local;
}

/**
 * When the clocks go back, the hour before the change is lived twice: EventBridge Scheduler runs
 * once, at the first 01:30, and does not repeat it at the second.
 */
function repeatedWallClock(run: Date, timezone: string): boolean {
  const local = wallClockAsUtc(run, timezone);
  // Every zone moves its clocks back by 30 minutes, an hour or two hours.
  return [30, 60, 120].some(
    (minutes) => wallClockAsUtc(new Date(run.getTime() - minutes * 60_000), timezone) === local,
  );
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone: making one costs far more than using it, and a schedule's run times use it many times each. */
function zoneFormat(timezone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    zoneFormats.set(timezone, format);
  }
  return format;
}

/** "2026-12-06 04:00 GMT" style, in the given zone. */
export function formatInZone(date: Date, timezone: string): string {
  const parts = zoneFormat(timezone).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

function zonedDateToUtc(local: string, timezone: string): Date {
  // Find the UTC instant whose wall-clock time in `timezone` is `local` (two passes settle DST).
  const target = Date.parse(`${local}Z`);
  let guess = target;
  for (let i = 0; i < 2; i++) {
    const shown = Date.parse(`${formatInZone(new Date(guess), timezone).slice(0, 16).replace(' ', 'T')}:00Z`);
    guess += target - shown;
  }
  return new Date(guess);
}
