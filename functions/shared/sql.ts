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

/**
 * One version of a query: sql/<name>.sql, for servers from `since` on (a server_version_num, or an
 * extension's version as extensionVersionNum gives it, for a query on an extension's views).
 */
export interface SqlVariant {
  readonly name: string;
  readonly since: number;
}

/** An extension's version ("1.10", from pg_extension.extversion) as a number shaped like server_version_num: 10010. */
export function extensionVersionNum(version: string): number {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`cannot read an extension version from "${version}"`);
  return Number(match[1]) * 10_000 + Number(match[2]);
}

/**
 * Which variant of a query this server runs: the one with the newest `since` that its
 * server_version_num reaches. Chosen up front rather than by trying the newest and catching the
 * error, so a real failure is never mistaken for an old server.
 */
export function pickSqlVariant(
  versionNum: number,
  variants: readonly SqlVariant[],
  what = 'PostgreSQL',
): string {
  let chosen: SqlVariant | undefined;
  for (const variant of variants)
    if (variant.since <= versionNum && (!chosen || variant.since > chosen.since)) chosen = variant;
  if (!chosen) {
    const oldest = Math.min(...variants.map((variant) => variant.since));
    const text = what === 'PostgreSQL' ? formatVersionNum : formatExtensionVersionNum;
    throw new Error(
      `${what} ${text(versionNum)} is too old for sql/${variants[0]?.name ?? '?'}.sql (needs ${text(oldest)} or later)`,
    );
  }
  return chosen.name;
}

/** The text of the variant of a query this server runs (pickSqlVariant). */
export function loadSqlFor(versionNum: number, variants: readonly SqlVariant[], what = 'PostgreSQL'): string {
  return loadSql(pickSqlVariant(versionNum, variants, what));
}

const formatExtensionVersionNum = (versionNum: number) =>
  `${Math.floor(versionNum / 10_000)}.${versionNum % 10_000}`;

/** 130023 → "13.23", 90624 → "9.6.24" (before 10 the major had two parts). */
export function formatVersionNum(versionNum: number): string {
  const major = Math.floor(versionNum / 10_000);
  if (major >= 10) return `${major}.${versionNum % 10_000}`;
  return `${major}.${Math.floor(versionNum / 100) % 100}.${versionNum % 100}`;
}
