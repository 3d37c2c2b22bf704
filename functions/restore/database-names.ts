import { identifierBytes, MAX_IDENTIFIER_BYTES } from '../shared/pg/sql-names';

/** yyyymmddhhmm in UTC: names sort by time and say when they were made. */
export function nameStamp(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

/** `<base><suffix>`, shortening the base (never the suffix) so the name fits in 63 bytes. */
export function withSuffix(base: string, suffix: string): string {
  let head = base;
  while (identifierBytes(head + suffix) > MAX_IDENTIFIER_BYTES) head = Array.from(head).slice(0, -1).join('');
  return head + suffix;
}

export const restoreName = (live: string, at: Date) => withSuffix(live, `_restore_${nameStamp(at)}`);
export const keptName = (live: string, at: Date) => withSuffix(live, `_pre_restore_${nameStamp(at)}`);
export const drillName = (live: string) => withSuffix(live, '_pgmaint_drill');
