import { fixed, ident, joinFragments, type SqlFragment } from '../shared/pg/sql-names';
import type { RowRule } from './rules';

export interface Predicate {
  readonly sql: SqlFragment;
  readonly values: readonly unknown[];
}

export interface TimeBounds {
  /** Rows strictly older than this go (the server's timestamptz text, exact to the microsecond). */
  readonly before?: string;
  /** Keyset start: where the previous batch ended (inclusive). */
  readonly from?: string;
  /** Range batch end (exclusive): the first time the batch leaves for the next one. */
  readonly until?: string;
  /** A slice of heap pages, [from, to): a TID range scan on PostgreSQL 14+. */
  readonly pages?: { readonly from: number; readonly to: number };
  /** Rows found held earlier in the run (`<tableoid>:<ctid>`), left for the next run. */
  readonly exclude?: readonly string[];
}

/**
 * The WHERE clause of a row rule: time bounds and the `where` filters, every value a bind parameter
 * numbered from `firstParam`. Parameters are untyped, so the server reads each as its column's type.
 */
export function rowPredicate(
  rule: Pick<RowRule, 'column' | 'where'>,
  bounds: TimeBounds,
  firstParam: number,
): Predicate {
  const parts: SqlFragment[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${firstParam + values.length - 1}`;
  };
  const column = ident(rule.column);
  if (bounds.before !== undefined) parts.push(fixed(`${column} < ${param(bounds.before)}`));
  if (bounds.from !== undefined) parts.push(fixed(`${column} >= ${param(bounds.from)}`));
  if (bounds.until !== undefined) parts.push(fixed(`${column} < ${param(bounds.until)}`));
  // Tid literals as parameters: a TID range scan needs bounds the planner sees as constants.
  if (bounds.pages !== undefined) {
    parts.push(fixed(`ctid >= ${param(`(${bounds.pages.from},0)`)}::tid`));
    parts.push(fixed(`ctid < ${param(`(${bounds.pages.to},0)`)}::tid`));
  }
  if (bounds.exclude !== undefined && bounds.exclude.length > 0)
    parts.push(fixed(`(tableoid::text || ':' || ctid::text) <> all(${param(bounds.exclude)}::text[])`));
  for (const filter of rule.where) {
    const name = ident(filter.column);
    const listed = filter.values.filter((v): v is string => v !== null);
    const orNull = listed.length < filter.values.length;
    const equal =
      listed.length === 0
        ? undefined
        : listed.length === 1
          ? `${name} = ${param(listed[0])}`
          : `${name} = any(${param(listed)})`;
    if (equal && orNull) parts.push(fixed(`(${equal} or ${name} is null)`));
    else if (equal) parts.push(fixed(equal));
    else parts.push(fixed(`${name} is null`));
  }
  return { sql: parts.length > 0 ? joinFragments(parts, ' and ') : fixed('true'), values };
}
