/**
 * Identifiers pgmaint puts into SQL text (table and database names cannot be bind parameters),
 * always double-quoted so that any name, however odd, is one identifier and never SQL.
 */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error('identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL truncates identifiers to 63 bytes; names we make must fit, or they would collide. */
export const MAX_IDENTIFIER_BYTES = 63;

export function identifierBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
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
