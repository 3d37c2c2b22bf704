import { escapeIdentifier, escapeLiteral } from 'pg';
import { loadSql } from '../sql';

/**
 * The one place pgmaint puts names into SQL text. Table, index and database names cannot be bind
 * parameters in utility statements (VACUUM, REINDEX, ALTER DATABASE), so they are spliced in,
 * always double-quoted so that any name, however odd, stays one identifier and never becomes SQL.
 *
 * Quoting is the pg driver's own escapeIdentifier/escapeLiteral rather than code of ours: they are
 * what node-postgres users rely on, match the server's lexer (inside double quotes only `"` is
 * special; a literal with a backslash becomes E'...' so it reads the same whatever
 * standard_conforming_strings says), and are maintained with the driver. What they do not check
 * (a NUL byte, a name over PostgreSQL's 63-byte limit) is checked here, before the server sees it.
 */

declare const fragmentBrand: unique symbol;

/**
 * SQL text that may be spliced into a statement. Only the helpers below make one: identifiers
 * (quoted), literals the server itself produced (quoted), and fixed SQL written in this code base.
 * Values from the config never become a fragment; they travel as bind parameters.
 */
export type SqlFragment = string & { readonly [fragmentBrand]: true };

const fragment = (text: string) => text as SqlFragment;

/** PostgreSQL truncates identifiers to 63 bytes; names we make must fit, or they would collide. */
export const MAX_IDENTIFIER_BYTES = 63;

export function identifierBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

function quotedPart(name: string): string {
  if (name.includes('\u0000')) throw new Error('identifier contains a NUL byte');
  // The server would silently cut a longer name to 63 bytes and so name a different object.
  if (identifierBytes(name) > MAX_IDENTIFIER_BYTES)
    throw new Error(
      `identifier ${JSON.stringify(name)} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit for a name`,
    );
  return escapeIdentifier(name);
}

/**
 * A name, each part quoted and joined with dots: `ident('public', 'audit_logs')` is
 * `"public"."audit_logs"`. Each part is one name as the catalog spells it (a dot inside a part is
 * part of the name), never a `schema.table` string to be split.
 */
export const ident = (...parts: readonly string[]): SqlFragment => {
  if (parts.length === 0) throw new Error('ident() needs at least one name');
  return fragment(parts.map(quotedPart).join('.'));
};

/** A comma-separated list of quoted column names: `"id", "executed_at"`. */
export const identList = (names: readonly string[]): SqlFragment =>
  fragment(names.map(quotedPart).join(', '));

/** A quoted literal; only for text the server produced (partition bounds), never for config values. */
export const serverLiteral = (text: string): SqlFragment => {
  if (text.includes('\u0000')) throw new Error('literal contains a NUL byte');
  return fragment(escapeLiteral(text));
};

/** Fixed SQL written in this code base (keywords, `$n` placeholders). */
export const fixed = (text: string): SqlFragment => fragment(text);

export const joinFragments = (parts: readonly SqlFragment[], separator: string): SqlFragment =>
  fragment(parts.join(separator));

/**
 * `text` with each `{slot}` filled by its fragment; a missing or unknown slot is a bug, so it
 * throws. `where` names the query in the message (sql/<name>.sql).
 */
export function fillSlots(text: string, slots: Readonly<Record<string, SqlFragment>>, where: string): string {
  const used = new Set<string>();
  const filled = text.replace(/\{([a-z]+)\}/g, (_, slot: string) => {
    const value = slots[slot];
    if (value === undefined) throw new Error(`${where}: no value for {${slot}}`);
    used.add(slot);
    return value;
  });
  const unused = Object.keys(slots).filter((slot) => !used.has(slot));
  if (unused.length > 0) throw new Error(`${where}: no slot {${unused.join('}, {')}}`);
  return filled;
}

/** Loads sql/<name>.sql (e.g. `retention/vacuum`) and fills each `{slot}` (fillSlots). */
export function sqlWithSlots(name: string, slots: Readonly<Record<string, SqlFragment>>): string {
  return fillSlots(loadSql(name), slots, `sql/${name}.sql`);
}

const PLAIN_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * A name for a message a DBA may copy (`GRANT app_owner TO pgmaint`, `table "Order Items".lines`):
 * bare when the server would read it back unchanged, quoted otherwise (quote_ident's rule, bar
 * its keyword list). Not for SQL pgmaint runs: that always goes through ident().
 */
export function readableName(...parts: readonly string[]): string {
  return parts.map((part) => (PLAIN_NAME.test(part) ? part : escapeIdentifier(part))).join('.');
}

// An unquoted name as PostgreSQL's lexer reads one, or a double-quoted one ("" is a quote inside).
const NAME_PART = String.raw`(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*|"(?:[^"\u0000]|"")+")`;
const NAME = new RegExp(`^${NAME_PART}$`);
const QUALIFIED_NAME = new RegExp(`^(${NAME_PART})(?:\\.(${NAME_PART}))?$`);

/** What an identifier in the config must look like, for messages. */
export const IDENTIFIER_HINT =
  'letters, digits, _ and $, starting with a letter or _; double-quote any other name, e.g. "Audit Logs"';

/**
 * Why `text` is not one SQL identifier (a column name), or undefined when it is. Checked with the
 * config, so a typo or an injection attempt fails `pgmaint validate`, not the nightly run.
 */
export function identifierProblem(text: string): string | undefined {
  if (!NAME.test(text)) return `${JSON.stringify(text)} is not a column name (${IDENTIFIER_HINT})`;
  return lengthProblem(text);
}

/** Why `text` is not a `[schema.]table` name, or undefined when it is. */
export function qualifiedNameProblem(text: string): string | undefined {
  const match = QUALIFIED_NAME.exec(text);
  if (!match)
    return `${JSON.stringify(text)} is not a table name: write [schema.]table, e.g. audit_logs or public.audit_logs (${IDENTIFIER_HINT})`;
  return lengthProblem(match[1] ?? '') ?? (match[2] === undefined ? undefined : lengthProblem(match[2]));
}

function lengthProblem(part: string): string | undefined {
  const name = part.startsWith('"') ? part.slice(1, -1).replaceAll('""', '"') : part;
  return identifierBytes(name) > MAX_IDENTIFIER_BYTES
    ? `${JSON.stringify(part)} is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte limit for a name`
    : undefined;
}
