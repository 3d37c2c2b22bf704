import type { Client } from 'pg';
import { loadSql } from '../shared/sql';
import type { DumpExcludes } from '../shared/store/layout';

/**
 * backup.excludeSchemas / excludeTables / excludeTableData are pg_dump's own patterns (psql's
 * rules: `*` and `?` wildcards, unquoted letters folded to lower case, `"..."` taken literally,
 * `schema.table`). pg_dump gets them as given; the row counts must leave out exactly what
 * pg_dump leaves out, so the same patterns are turned into the regular expressions pg_dump
 * itself matches with (fe_utils' patternToSQLRegex, which it runs on the server with `~`).
 */

export type PatternKind = 'schema' | 'table';

/** A pattern as the regular expressions pg_dump matches: the name's, and the schema's if given. */
export interface PatternRegex {
  readonly schema: string | null;
  readonly name: string;
}

/** Splits at unquoted dots: how many parts, and whether a double quote is left open. */
function scan(pattern: string): { parts: string[]; openQuote: boolean } {
  const parts: string[] = [''];
  let inQuotes = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '"') {
      if (inQuotes && pattern[i + 1] === '"') {
        parts[parts.length - 1] += '""';
        i++;
        continue;
      }
      inQuotes = !inQuotes;
    }
    if (ch === '.' && !inQuotes) {
      parts.push('');
      continue;
    }
    parts[parts.length - 1] += ch;
  }
  return { parts, openQuote: inQuotes };
}

/** Why a pattern cannot be given to pg_dump as a `kind` pattern, or undefined when it can. */
export function excludePatternProblem(pattern: string, kind: PatternKind): string | undefined {
  if (pattern.trim() === '') return 'expected a pattern, got an empty string';
  // Passed as one argument (never through a shell); control characters are never a name's.
  if (/[\p{Cc}]/u.test(pattern)) return 'a pattern cannot contain control characters (newlines, tabs)';
  if (pattern.startsWith('-')) return 'a pattern cannot start with "-"';
  const { parts, openQuote } = scan(pattern);
  if (openQuote) return 'a double quote is not closed';
  if (kind === 'schema' && parts.length > 1)
    return 'a schema pattern has no dots outside double quotes (write "my.schema" in double quotes for a dot in a name)';
  if (kind === 'table' && parts.length > 2)
    return 'expected "table" or "schema.table" (a dot inside a name goes in double quotes)';
  if (parts.some((part) => part === ''))
    return 'a part before or after a dot is empty (write "schema.table" or "table")';
  return undefined;
}

/** One part of a pattern as pg_dump's regular expression (force_escape off, as pg_dump calls it). */
function partRegex(part: string): string {
  let out = '^(';
  let inQuotes = false;
  for (let i = 0; i < part.length; i++) {
    const ch = part[i] ?? '';
    if (ch === '"') {
      if (inQuotes && part[i + 1] === '"') {
        out += '"';
        i++;
      } else inQuotes = !inQuotes;
    } else if (!inQuotes && /[A-Z]/.test(ch)) out += ch.toLowerCase();
    else if (!inQuotes && ch === '*') out += '.*';
    else if (!inQuotes && ch === '?') out += '.';
    else if (ch === '$') out += '\\$';
    else if (inQuotes && '|*+?()[]{}.^$\\'.includes(ch)) out += `\\${ch}`;
    else if (ch === '[' && part[i + 1] === ']') out += `\\${ch}`;
    else out += ch;
  }
  return `${out})$`;
}

/** The regular expressions pg_dump matches a (valid) pattern with. */
export function patternRegex(pattern: string, kind: PatternKind): PatternRegex {
  const { parts } = scan(pattern);
  if (kind === 'schema' || parts.length === 1) return { schema: null, name: partRegex(pattern) };
  return { schema: partRegex(parts[0] ?? ''), name: partRegex(parts[1] ?? '') };
}

/** pg_dump's arguments for the excludes: one `--exclude-…=pattern` each, never through a shell. */
export function excludeArgs(excludes: DumpExcludes): string[] {
  return [
    ...excludes.schemas.map((p) => `--exclude-schema=${p}`),
    ...excludes.tables.map((p) => `--exclude-table=${p}`),
    ...excludes.tableData.map((p) => `--exclude-table-data=${p}`),
  ];
}

export const noExcludes = (excludes: DumpExcludes) =>
  excludes.schemas.length + excludes.tables.length + excludes.tableData.length === 0;

/** What the excludes leave out of a dump of the client's database, as `schema.name` → how. */
export type ExcludedTables = ReadonlyMap<string, 'table' | 'data'>;

export const tableLabel = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;

/**
 * The tables the excludes match in the client's database, matched the way pg_dump matches them
 * (sql/backup/excluded-tables.sql): a table pattern without a schema matches tables visible on the
 * search path. Run in the dump's snapshot, so it sees the tables pg_dump sees.
 */
export async function excludedTables(client: Client, excludes: DumpExcludes): Promise<ExcludedTables> {
  if (noExcludes(excludes)) return new Map();
  const tables = excludes.tables.map((p) => patternRegex(p, 'table'));
  const data = excludes.tableData.map((p) => patternRegex(p, 'table'));
  const { rows } = await client.query<{ schema: string; name: string; excluded: 'table' | 'data' }>(
    loadSql('backup/excluded-tables'),
    [
      excludes.schemas.map((p) => patternRegex(p, 'schema').name),
      tables.map((t) => t.schema),
      tables.map((t) => t.name),
      data.map((t) => t.schema),
      data.map((t) => t.name),
    ],
  );
  return new Map(rows.map((r) => [tableLabel(r), r.excluded]));
}
