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
