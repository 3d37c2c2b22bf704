/**
 * Calendar periods of an instant in a time zone, for grandfather-father-son backup retention:
 * "the first backup of each month" means the month on the clock of the team that set the rule
 * (a 00:30 Europe/London backup on 1 July is still June in UTC).
 */
export type Period = 'day' | 'week' | 'month' | 'year';

interface LocalDate {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localDate(at: Date, timeZone: string): LocalDate {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a local calendar date (no time zone left in it). */
function dayNumber(date: LocalDate): number {
  return Date.UTC(date.year, date.month - 1, date.day) / DAY_MS;
}

/**
 * A number that orders the periods and makes consecutive periods consecutive integers, so "the
 * last N periods" is a subtraction. Weeks are ISO weeks (Monday to Sunday).
 */
export function periodIndex(at: Date, period: Period, timeZone: string): number {
  const date = localDate(at, timeZone);
  switch (period) {
    case 'day':
      return dayNumber(date);
    case 'week':
      // 1970-01-01 was a Thursday: shift so Monday starts a week.
      return Math.floor((dayNumber(date) + 3) / 7);
    case 'month':
      return date.year * 12 + (date.month - 1);
    case 'year':
      return date.year;
  }
}
