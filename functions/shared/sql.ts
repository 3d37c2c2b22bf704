import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The SQL pgmaint runs lives in sql/ (one file per query or query family), so a DBA can read and
 * review it without reading TypeScript. Loaded once per process.
 */
const SQL_DIR = resolve(__dirname, '..', '..', 'sql');
const cache = new Map<string, string>();

export function loadSql(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(SQL_DIR, `${name}.sql`), 'utf8');
    cache.set(name, text);
  }
  return text;
}
