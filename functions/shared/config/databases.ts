import * as z from 'zod';
import { RequestRefusedError } from '../errors';
import { MAX_IDENTIFIER_BYTES } from '../pg/sql-names';

/**
 * Which database(s) of the server a target's secret or URL names. By default the one database the
 * secret's `dbname` (or the URL's path) names; `dbname` picks another one with the same
 * credentials; `databases` makes the target a whole server: the backup job backs up each database
 * ("*": every database that accepts connections and is no template, `exclude` left out), and
 * pgmaint connects to the secret's or URL's own database only to find them.
 */

const databaseName = z
  .string({ error: 'expected a database name' })
  .min(1, { error: 'expected a database name, got an empty string' })
  .refine((name) => Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES, {
    error: `a database name has at most ${MAX_IDENTIFIER_BYTES} bytes`,
  })
  .refine((name) => !name.includes('\u0000'), { error: 'a database name cannot contain a NUL byte' });

const uniqueNames = (names: readonly string[]) => new Set(names).size === names.length;

export const databaseFields = {
  /** Connect to this database instead of the secret's `dbname` (or the URL's), same credentials. */
  dbname: databaseName.optional(),
  /** "*" or a list of names: back up each of these databases of the server, each on its own. */
  databases: z
    .union(
      [
        z.literal('*'),
        z
          .array(databaseName)
          .min(1, { error: 'name at least one database, or "*" for all of them' })
          .refine(uniqueNames, { error: 'a database is named twice' }),
      ],
      { error: 'expected "*" (every database) or a list of database names' },
    )
    .optional(),
  /** With `databases: "*"`: databases not to back up. */
  exclude: z
    .array(databaseName, { error: 'expected a list of database names' })
    .refine(uniqueNames, { error: 'a database is named twice' })
    .optional(),
};

/** Jobs that work inside one database; a target with `databases` names several. */
const ONE_DATABASE_SECTIONS = ['retention', 'reindex', 'health'] as const;

interface DatabasesTarget {
  readonly url?: string | undefined;
  readonly secret?: string | undefined;
  readonly dbname?: string | undefined;
  readonly databases?: '*' | readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly manageSecret?: { readonly dbname: string } | undefined;
  readonly retention?: unknown;
  readonly reindex?: unknown;
  readonly health?: unknown;
  readonly restore?: { readonly drill?: { readonly schedule?: string | undefined } | undefined } | undefined;
}

/** The URL's own database (its path), or undefined when it names none. */
function urlDatabase(url: string): string | undefined {
  try {
    const path = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
    return path === '' ? undefined : path;
  } catch {
    return undefined; // the url field reports it
  }
}

/** Every problem with a target's database fields, each with its path and what to do instead. */
export function databaseIssues(target: DatabasesTarget): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  const fromUrl = target.url === undefined ? undefined : urlDatabase(target.url);
  if (target.dbname !== undefined) {
    if (target.databases !== undefined)
      issues.push({
        path: ['dbname'],
        message:
          'give "dbname" (one database) or "databases" (several), not both; with "databases", pgmaint finds them from the database the secret or URL names',
      });
    else if (fromUrl !== undefined && fromUrl !== target.dbname)
      issues.push({
        path: ['dbname'],
        message: `the database is given both ways: the url names "${fromUrl}" and dbname "${target.dbname}"; keep one`,
      });
    else if (target.manageSecret && target.manageSecret.dbname !== target.dbname)
      issues.push({
        path: ['dbname'],
        message: `the database is given both ways: manageSecret.dbname is "${target.manageSecret.dbname}" and dbname "${target.dbname}"; keep one`,
      });
  }
  if (target.exclude !== undefined && target.databases !== '*')
    issues.push({
      path: ['exclude'],
      message:
        target.databases === undefined
          ? '"exclude" leaves databases out of "databases": "*"; this target backs up one database'
          : '"exclude" goes with "databases": "*"; with a list, leave the databases out of the list',
    });
  if (target.databases === undefined) return issues;
  for (const section of ONE_DATABASE_SECTIONS)
    if (target[section] !== undefined)
      issues.push({
        path: [section],
        message:
          section === 'health'
            ? healthRefusal(undefined, target)
            : `${section} works inside one database and this target names several ("databases"); give each database it should run on a target of its own (the same secret with "dbname": "<database>", or a url naming that database)`,
      });
  if (target.restore?.drill?.schedule !== undefined)
    issues.push({
      path: ['restore', 'drill', 'schedule'],
      message:
        'a scheduled drill restores one database and this target backs up several ("databases"); drill one by hand with `pgmaint restore --drill --database <name>`, or schedule it on a target of its own for that database',
    });
  return issues;
}

/**
 * Health on a server-wide target: what to write instead, with this target's own connection (its
 * secret's name, never a URL's password) and one of its databases. Health's state, alerts,
 * Nagios line and metrics are one target's: a target per database keeps each of them whole.
 */
function healthRefusal(targetName: string | undefined, target: DatabasesTarget): string {
  const database = Array.isArray(target.databases) ? (target.databases[0] ?? 'app') : 'app';
  const connection =
    target.secret !== undefined
      ? `"secret": ${JSON.stringify(target.secret)}, "dbname": ${JSON.stringify(database)}`
      : `"url": "<the same url, naming database ${database}>"`;
  const key = JSON.stringify(`${targetName ?? '<name>'}-${database}`);
  const which = targetName === undefined ? 'this target' : `target "${targetName}"`;
  return (
    `health checks one database and ${which} names several ("databases"): add a target per database to check, ` +
    `connecting as this one does, e.g. "targets": { ${key}: { ${connection}, "health": { "schedule": "rate(15 minutes)" } } }, ` +
    'and keep "databases" here for the backup. Each such target also runs the server-wide checks (such as connections, replication_lag, wal_files, checkpoints, and xid_wraparound, which covers every database): ' +
    'to grade those on one target only, set their thresholds to { "warning": null, "critical": null } on the others (README: Health, "Several databases of one server")'
  );
}

/** A target whose backup covers several databases ("databases" is set). */
export const namesSeveralDatabases = (target: { readonly databases?: unknown }) =>
  target.databases !== undefined;

/**
 * Retention, reindex and health work inside one database; run against a target with `databases`
 * they would look at the database pgmaint connects to for discovery and say nothing of the rest.
 */
export function refuseSeveralDatabases(job: string, targetName: string, target: DatabasesTarget) {
  if (!namesSeveralDatabases(target)) return;
  if (job === 'health')
    throw new RequestRefusedError(`${healthRefusal(targetName, target)}; nothing was done`);
  throw new RequestRefusedError(
    `${job} works inside one database and target "${targetName}" names several ("databases"): give each database it should run on a target of its own (the same secret with "dbname": "<database>", or a url naming that database); nothing was done`,
  );
}
