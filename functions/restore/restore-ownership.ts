import type { Client } from 'pg';
import { RefusedError } from '../shared/errors';
import { readableName } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';
import type { ArchiveFacts } from './archive-database';

/**
 * Who owns what in a restored database.
 *
 * - `archive`: the backup's own owners and grants (pg_restore without --no-owner/--no-privileges).
 *   The default of a replace, and of a new-database restore with keepOwners. This is the only way
 *   the same roles can use the restored database as they used the old one: the archive carries
 *   every owner, table, column, sequence, function and schema grant and default privilege
 *   exactly, which re-granting from the replaced database's ACLs could not (its objects are not
 *   the backup's, and a refresh from another target has different ones), and mapping everything
 *   to one owner drops every other role's grants.
 *   It needs every role the archive names on this server, and pgmaint's role able to act as each
 *   owner: ALTER ... OWNER TO needs membership in the new owner (SET on PostgreSQL 16+). On RDS
 *   pgmaint's role is at best rds_superuser, not a superuser, so it is not a member of the
 *   application's roles until someone runs `GRANT app_owner TO pgmaint`; both are checked before
 *   anything is created, and the refusal says which GRANT or CREATE ROLE is missing.
 * - `owner`: the config's restore.owner owns everything (--no-owner --no-privileges
 *   --role=<owner>), used only when roles the archive names are missing here. Grants are lost, so
 *   a replace still refuses to swap if a role would lose access it had.
 * - `none`: pgmaint's role owns everything, no grants: a new-database restore or a drill, which
 *   no application uses.
 */
export type Ownership =
  | { readonly kind: 'archive' }
  | { readonly kind: 'owner'; readonly role: string; readonly missingRoles: readonly string[] }
  | { readonly kind: 'none' };

export function pgRestoreOwnershipArgs(ownership: Ownership): string[] {
  if (ownership.kind === 'archive') return [];
  const args = ['--no-owner', '--no-privileges'];
  return ownership.kind === 'owner' ? [...args, `--role=${ownership.role}`] : args;
}

/**
 * Entries pg_restore gives no owner to (grants, comments, data): their owner is the object's,
 * counted with the object. pg_database_owner (of schema public) is whoever owns the database,
 * which the restore sets first.
 */
const NOT_OWNED =
  /^(ACL|COMMENT|SECURITY LABEL|TABLE DATA|SEQUENCE SET|BLOBS|LARGE OBJECTS|MATERIALIZED VIEW DATA) /;

interface ServerRole {
  readonly name: string;
  readonly canAct: boolean;
  readonly canConfigure: boolean;
  readonly isMe: boolean;
  readonly superuser: boolean;
}

/**
 * Decides the ownership of a restore that keeps owners, before anything is created: `archive` when
 * every role exists and pgmaint can act as the owners; `owner` when roles are missing and the
 * config names one; otherwise a refusal naming each missing role and membership.
 */
export async function planOwnership(
  admin: Client,
  facts: ArchiveFacts,
  options: { target: string; configuredOwner?: string; serverVersionNum: number; globalsKey?: string },
): Promise<Ownership> {
  const roles = await serverRoles(admin, options.serverVersionNum);
  const me = [...roles.values()].find((r) => r.isMe);
  const owners = new Set(
    facts.entryLines
      .filter((line) => !NOT_OWNED.test(line))
      .map((line) => entryOwner(line, roles))
      .filter((o) => o !== '' && o !== 'pg_database_owner'),
  );
  if (facts.database?.owner) owners.add(facts.database.owner);
  const named = new Set([...owners, ...facts.grantRoles]);
  const missing = [...named].filter((r) => !roles.has(r)).sort();
  const cannotAct = [...owners].filter((r) => roles.has(r) && !roles.get(r)?.canAct).sort();
  const needSuperuser = me?.superuser ? [] : [...facts.sessionAuthorizations].sort();
  const cannotConfigure = (facts.database?.roleSettings ?? [])
    .map((s) => s.role)
    .filter((r) => roles.has(r) && !roles.get(r)?.canConfigure)
    .sort();
  const problemCount = missing.length + cannotAct.length + needSuperuser.length + cannotConfigure.length;
  if (problemCount === 0) return { kind: 'archive' };

  const configured = options.configuredOwner;
  const setting = `targets.${options.target}.restore.owner`;
  if (missing.length > 0 && configured !== undefined) {
    const role = roles.get(configured);
    if (!role)
      throw new RefusedError(
        `${setting} names role "${configured}", which does not exist on this server; nothing was created`,
      );
    if (!role.canAct)
      throw new RefusedError(
        `${setting} names role "${configured}", but pgmaint's role "${me?.name}" is not a member of it: ` +
          `run GRANT ${readableName(configured)} TO ${readableName(me?.name ?? 'pgmaint')}, then retry; nothing was created`,
      );
    return { kind: 'owner', role: configured, missingRoles: missing };
  }

  const problems: string[] = [];
  if (missing.length > 0)
    problems.push(
      `roles the backup's objects and grants belong to do not exist on this server: ${missing.join(', ')} ` +
        `(create them${options.globalsKey ? `, e.g. from the roles file saved beside the backup, ${options.globalsKey}` : ''}; ` +
        `or set ${setting} to the role that should own everything, restoring without the backup's grants)`,
    );
  if (cannotAct.length > 0) {
    const grants = cannotAct.map(
      (r) => `GRANT ${readableName(r)} TO ${readableName(me?.name ?? 'pgmaint')};`,
    );
    problems.push(
      `pgmaint's role "${me?.name}" is not a member of ${cannotAct.join(', ')}, which own objects in the backup, ` +
        `so it cannot give them their objects back (on RDS pgmaint's role is not a superuser): run ${grants.join(' ')} then retry`,
    );
  }
  if (cannotConfigure.length > 0)
    problems.push(
      `the backup has per-database settings of ${cannotConfigure.join(', ')} (ALTER ROLE ... IN DATABASE ... SET), ` +
        `which pgmaint's role "${me?.name}" may not make: it needs CREATEROLE (from PostgreSQL 16 also ADMIN OPTION on each role), ` +
        'or a superuser sets them after the restore',
    );
  if (needSuperuser.length > 0)
    problems.push(
      `grants in the backup were made by ${needSuperuser.join(', ')} rather than by the objects' owners; ` +
        'pg_restore re-makes them with SET SESSION AUTHORIZATION, which needs a superuser',
    );
  throw new RefusedError(
    `cannot restore the backup's owners and grants: ${problems.join('; ')}; nothing was created`,
  );
}

async function serverRoles(admin: Client, serverVersionNum: number): Promise<Map<string, ServerRole>> {
  const { rows } = await admin.query<{
    name: string;
    can_act: boolean;
    can_configure: boolean;
    is_me: boolean;
    superuser: boolean;
  }>(loadSql('restore/roles-here'), [serverVersionNum >= 160000 ? 'SET' : 'MEMBER', serverVersionNum]);
  return new Map(
    rows.map((r) => [
      r.name,
      {
        name: r.name,
        canAct: r.can_act,
        canConfigure: r.can_configure,
        isMe: r.is_me,
        superuser: r.superuser,
      },
    ]),
  );
}

/**
 * The owner at the end of a `pg_restore -l` line. The list does not quote names, so the longest
 * known role the line ends with wins (a role may contain spaces); otherwise the last word.
 */
function entryOwner(line: string, roles: ReadonlyMap<string, ServerRole>): string {
  let best = '';
  for (const name of roles.keys())
    if (name.length > best.length && (line === name || line.endsWith(` ${name}`))) best = name;
  return best || (line.split(' ').pop() ?? '');
}
