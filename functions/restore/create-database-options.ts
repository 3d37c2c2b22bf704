import { JobError } from '../shared/errors';

/**
 * CREATE DATABASE options pg_dump writes and the first server version that accepts them. pg_dump
 * 18 writes `LOCALE_PROVIDER = libc` even for a PostgreSQL 13 database, and 13 and 14 reject it:
 * the statement a restore runs says only what the server it runs on knows.
 */
const OPTION_SINCE: ReadonlyArray<readonly [string, number]> = [
  ['LOCALE_PROVIDER', 150_000],
  ['ICU_LOCALE', 150_000],
  ['COLLATION_VERSION', 150_000],
  ['ICU_RULES', 160_000],
  ['BUILTIN_LOCALE', 170_000],
];

const optionPattern = (key: string) => new RegExp(`\\s+${key}\\s*=\\s*('(?:[^']|'')*'|[A-Za-z0-9_.-]+)`, 'i');

/** The statement without the options `serverVersionNum` does not know; refused if one mattered. */
export function createDatabaseFor(statement: string, serverVersionNum: number): string {
  let text = statement;
  for (const [key, since] of OPTION_SINCE) {
    if (serverVersionNum >= since) continue;
    const match = optionPattern(key).exec(text);
    if (!match) continue;
    const value = (match[1] ?? '').replace(/^'|'$/g, '');
    if (key === 'LOCALE_PROVIDER' && value.toLowerCase() !== 'libc')
      throw new JobError(
        `the backup's database uses the ${value} collation provider, which PostgreSQL ${Math.floor(serverVersionNum / 10_000)} cannot create; restore it into PostgreSQL 15 or newer`,
      );
    text = text.replace(match[0], '');
  }
  return text;
}
