import type { Client } from 'pg';
import { JobError } from '../shared/errors';
import type { JobContext } from '../shared/job';
import { ident } from '../shared/pg/sql-names';
import { describeDatabase } from './archive-database';
import {
  type ComparedProperty,
  compareDefinitions,
  type DatabaseDefinition,
  type PropertyDifference,
} from './database-definition';
import type { Ownership } from './restore-ownership';
import { applyDatabaseProperties, comparedProperties, expectedDefinition } from './restored-database';
import { describeLost, lostAccess, readRoleAccess, rolesStillThere } from './role-access';

const EVERY_PROPERTY: readonly ComparedProperty[] = [
  'encoding and locale',
  'owner',
  'comment',
  'settings',
  'role settings',
  'grants',
];

/**
 * The check before a swap (and at the end of every restore): the database's own properties are
 * put back as the backup has them, then compared with the backup; a replace also proves that
 * every login role keeps, on every table, view, sequence and schema both databases have and on
 * the database itself, each privilege it had in the database being replaced. Any difference
 * refuses: the live database is left as it is, and the restored copy is kept under its own name
 * (a restore can take hours; the operator may fix a grant and swap by hand, or drop it).
 */
export async function checkRestored(
  context: JobContext,
  admin: Client,
  run: {
    name: string;
    live: string;
    mode: 'new' | 'replace' | 'drill';
    source: DatabaseDefinition | null;
    ownership: Ownership;
  },
): Promise<{ skippedRoleSettings: string[]; changedFromReplaced?: PropertyDifference[] }> {
  const { name, live, mode, source, ownership } = run;
  const settings = await context.connection();
  const problems: string[] = [];
  let skippedRoleSettings: string[] = [];
  let restored: DatabaseDefinition | undefined;
  if (source) {
    const applied = await applyDatabaseProperties(admin, name, source, ownership);
    skippedRoleSettings = applied.skippedRoleSettings;
    problems.push(...applied.failures.map((f) => `could not restore ${f}`));
    restored = await describeDatabase(settings, name);
    const expected = expectedDefinition(source, ownership, skippedRoleSettings);
    for (const d of compareDefinitions(expected, restored, comparedProperties(ownership)))
      problems.push(`its ${d.property} should be ${d.expected}, is ${d.actual}`);
  }
  let changedFromReplaced: PropertyDifference[] | undefined;
  if (mode === 'replace') {
    if (restored)
      changedFromReplaced = compareDefinitions(
        await describeDatabase(settings, live),
        restored,
        EVERY_PROPERTY,
      );
    const before = await withDatabase(context, live, readRoleAccess);
    // Roles are the server's: one dropped meanwhile by anyone has nothing left to lose.
    const { after, stillThere } = await withDatabase(context, name, async (client) => {
      const access = await readRoleAccess(client);
      return { after: access, stillThere: await rolesStillThere(client, before) };
    });
    const lost = lostAccess(before, after, stillThere);
    if (lost.length > 0)
      problems.push(
        describeLost(lost) +
          (ownership.kind === 'owner'
            ? ` (restore.owner restores none of the backup's grants: create ${ownership.missingRoles.join(', ')} and restore again, or grant these in the kept copy and swap by hand)`
            : ''),
      );
  }
  if (problems.length > 0) {
    const kept =
      mode === 'drill'
        ? 'the drill database was dropped'
        : `the restored copy is kept as "${name}" to inspect or fix (drop it with DROP DATABASE ${ident(name)})`;
    throw new JobError(
      mode === 'replace'
        ? `refusing to swap the restored copy in for "${live}": ${problems.join('; ')}. "${live}" is still live and untouched; ${kept}`
        : `the restored database "${name}" does not come back as the backup's: ${problems.join('; ')}; ${kept}`,
    );
  }
  if (changedFromReplaced && changedFromReplaced.length > 0)
    context.logger.warn('the restored database differs from the one it replaces', {
      differences: changedFromReplaced,
    });
  return { skippedRoleSettings, ...(changedFromReplaced ? { changedFromReplaced } : {}) };
}

async function withDatabase<T>(context: JobContext, database: string, work: (client: Client) => Promise<T>) {
  const client = await context.connect({ database, statementTimeoutMs: 0 });
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}
