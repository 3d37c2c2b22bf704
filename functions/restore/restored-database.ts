import type { Client } from 'pg';
import { errorMessage, JobError } from '../shared/errors';
import { ident } from '../shared/pg/sql-names';
import { createDatabaseFor } from './create-database-options';
import {
  type ComparedProperty,
  type DatabaseDefinition,
  forDatabase,
  ownerStatement,
} from './database-definition';
import type { Ownership } from './restore-ownership';

/**
 * CREATE DATABASE as pg_dump wrote it for the source (template0, its encoding, locale, collation
 * provider and ICU locale), under the restore's name: what `pg_restore --create` does, which
 * cannot itself create under another name. An archive without a DATABASE entry gets the server's
 * defaults. Then, keeping owners, the owner and the database's grants, before pg_restore: objects
 * can only be given to a role that may create in their schema (public's CREATE belongs to the
 * database owner), and schemas to one that may create in the database.
 */
export async function createRestoredDatabase(
  admin: Client,
  name: string,
  source: DatabaseDefinition | null,
  ownership: Ownership,
  serverVersionNum: number,
): Promise<void> {
  if (!source) {
    await admin.query(`create database ${ident(name)} template template0`);
    return;
  }
  try {
    await admin.query(createDatabaseFor(forDatabase(source.create, name), serverVersionNum));
  } catch (error) {
    if (error instanceof JobError) throw error;
    throw new JobError(
      `could not create database "${name}" as the backup's was (${describeLocale(source)}): ${errorMessage(error)}; ` +
        'the server needs that encoding and locale (for ICU, a PostgreSQL built with ICU)',
    );
  }
  const owner =
    ownership.kind === 'archive' ? source.owner : ownership.kind === 'owner' ? ownership.role : null;
  if (!owner) return;
  try {
    await admin.query(ownerStatement(owner, name));
  } catch (error) {
    throw new JobError(`could not make ${owner} the owner of database "${name}": ${errorMessage(error)}`);
  }
  // Its grants too: a schema can only be given to a role that may CREATE in the database.
  if (ownership.kind !== 'archive') return;
  for (const statement of source.acl) {
    try {
      await admin.query(forDatabase(statement, name));
    } catch (error) {
      throw new JobError(
        `restoring the grants of database "${name}" failed (${forDatabase(statement, name)}): ${errorMessage(error)}`,
      );
    }
  }
}

/**
 * After pg_restore: the comment, the database's settings and its per-role settings, as the source
 * had them. Applied last so that a setting such as
 * default_transaction_read_only cannot get in the restore's way. A statement that fails does not
 * stop the others: the check that follows names it, and the restored copy is kept. Per-role
 * settings of roles this server lacks are skipped, and so are (without kept owners) those
 * pgmaint's role may not make; both are returned so the check leaves them out.
 */
export async function applyDatabaseProperties(
  admin: Client,
  name: string,
  source: DatabaseDefinition,
  ownership: Ownership,
): Promise<{ skippedRoleSettings: string[]; failures: string[] }> {
  const failures: string[] = [];
  const attempt = async (statement: string) => {
    try {
      await admin.query(forDatabase(statement, name));
      return true;
    } catch (error) {
      failures.push(`${forDatabase(statement, name)}: ${errorMessage(error)}`);
      return false;
    }
  };
  for (const statement of [...source.comment, ...source.settings]) await attempt(statement);
  const { rows } = await admin.query<{ rolname: string }>(
    'select rolname from pg_roles where rolname = any($1::text[])',
    [source.roleSettings.map((s) => s.role)],
  );
  const present = new Set(rows.map((r) => r.rolname));
  const skippedRoleSettings: string[] = [];
  for (const setting of source.roleSettings) {
    if (!present.has(setting.role)) skippedRoleSettings.push(setting.role);
    else if (!(await attempt(setting.statement)) && ownership.kind === 'none') {
      skippedRoleSettings.push(setting.role);
      failures.pop();
    }
  }
  return { skippedRoleSettings, failures };
}

/** What the check compares with the backup, per ownership: grants only when they were restored. */
export function comparedProperties(ownership: Ownership): ComparedProperty[] {
  const always: ComparedProperty[] = ['encoding and locale', 'comment', 'settings', 'role settings'];
  if (ownership.kind === 'archive') return [...always, 'owner', 'grants'];
  if (ownership.kind === 'owner') return [...always, 'owner'];
  return always;
}

/** The backup's definition as this restore promises to reproduce it. */
export function expectedDefinition(
  source: DatabaseDefinition,
  ownership: Ownership,
  skippedRoleSettings: readonly string[],
): DatabaseDefinition {
  return {
    ...source,
    owner: ownership.kind === 'owner' ? ownership.role : source.owner,
    roleSettings: source.roleSettings.filter((s) => !skippedRoleSettings.includes(s.role)),
  };
}

function describeLocale(source: DatabaseDefinition): string {
  return Object.entries(source.options)
    .filter(([key]) => key !== 'TEMPLATE')
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
}
