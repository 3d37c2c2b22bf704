/**
 * Human units used in the config: intervals ("90 days"), sizes ("5 GB"), percentages ("80%").
 * Each parser returns undefined for text it does not understand so callers can name the path.
 */

const SECONDS_PER_UNIT: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
};

const INTERVAL_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*$/i;

/** "90 days" → 7776000 (seconds). Months and years are refused: their length varies. */
export function parseIntervalSeconds(text: string): number | undefined {
  const match = INTERVAL_PATTERN.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const unit = SECONDS_PER_UNIT[match[2].toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

const BYTES_PER_UNIT: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
};

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)\s*$/i;

/** "5 GB" → bytes, with PostgreSQL's binary units (pg_size_pretty agrees). */
export function parseSizeBytes(text: string): number | undefined {
  const match = SIZE_PATTERN.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const unit = BYTES_PER_UNIT[match[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

const PERCENT_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** "80%" → 80; above `max` (a share of a whole: 100) is not a percentage of that. */
export function parsePercent(text: string, max = 100): number | undefined {
  const match = PERCENT_PATTERN.exec(text);
  if (!match?.[1]) return undefined;
  const value = Number(match[1]);
  return value <= max ? value : undefined;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = seconds / 60;
  if (minutes < 60) return `${minutes.toFixed(1)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}
