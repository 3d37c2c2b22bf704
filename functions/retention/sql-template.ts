import { escapeIdentifier, escapeLiteral } from 'pg';
import { loadSql } from '../shared/sql';

declare const fragmentBrand: unique symbol;

/**
 * SQL text that may be spliced into a statement. Only the helpers below make one: identifiers the
 * catalog returned (quoted), literals the server itself produced (quoted), and fixed keywords. Values
 * from the config never become a fragment; they travel as bind parameters.
 */
export type SqlFragment = string & { readonly [fragmentBrand]: true };

const fragment = (text: string) => text as SqlFragment;

/** `schema.table` or a column, each part quoted: `"public"."audit_logs"`. */
export const ident = (...parts: readonly string[]): SqlFragment =>
  fragment(parts.map((part) => escapeIdentifier(part)).join('.'));

/** A comma-separated list of quoted column names: `"id", "executed_at"`. */
export const identList = (names: readonly string[]): SqlFragment =>
  fragment(names.map((name) => escapeIdentifier(name)).join(', '));

/** A quoted literal; only for text the server produced (partition bounds), never for config values. */
export const serverLiteral = (text: string): SqlFragment => fragment(escapeLiteral(text));

/** Fixed SQL written in this folder (keywords, `$n` placeholders). */
export const fixed = (text: string): SqlFragment => fragment(text);

export const joinFragments = (parts: readonly SqlFragment[], separator: string): SqlFragment =>
  fragment(parts.join(separator));

/** Loads sql/retention/<name>.sql and fills each `{slot}`; a missing or unknown slot is a bug, so it throws. */
export function retentionSql(name: string, slots: Readonly<Record<string, SqlFragment>>): string {
  const used = new Set<string>();
  const text = loadSql(`retention/${name}`).replace(/\{([a-z]+)\}/g, (_, slot: string) => {
    const value = slots[slot];
    if (value === undefined) throw new Error(`sql/retention/${name}.sql: no value for {${slot}}`);
    used.add(slot);
    return value;
  });
  const unused = Object.keys(slots).filter((slot) => !used.has(slot));
  if (unused.length > 0) throw new Error(`sql/retention/${name}.sql: no slot {${unused.join('}, {')}}`);
  return text;
}
