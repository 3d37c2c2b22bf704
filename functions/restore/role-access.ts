import type { Client } from 'pg';
import { readableName } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';

/** Per object (the database, each schema, table, view and sequence): role → its privileges. */
export type RoleAccess = ReadonlyMap<string, Readonly<Record<string, readonly string[]>>>;

export interface LostAccess {
  readonly role: string;
  /** e.g. `table "Order Items".lines` or `database`. */
  readonly object: string;
  readonly privileges: readonly string[];
}

/** What every login role (not pgmaint's own, not a superuser) may do in the connected database. */
export async function readRoleAccess(client: Client): Promise<RoleAccess> {
  const { rows } = await client.query<{
    kind: string;
    schema: string;
    name: string;
    roles: Record<string, string[]>;
  }>(loadSql('restore/role-access'));
  // The database row is keyed by kind alone: the two sides have different names until the swap.
  return new Map(rows.map((r) => [r.kind === 'database' ? 'database' : objectLabel(r), r.roles]));
}

/** The roles of `access` that still exist: the two sides are read one after the other. */
export async function rolesStillThere(client: Client, access: RoleAccess): Promise<ReadonlySet<string>> {
  const named = [...new Set([...access.values()].flatMap((roles) => Object.keys(roles)))];
  const { rows } = await client.query<{ roles: string[] }>(loadSql('restore/roles-still-there'), [named]);
  return new Set(rows[0]?.roles ?? []);
}

/**
 * Privileges a role had on an object of the replaced database that the restored one does not give
 * it on the same object. Objects that exist only in the replaced database are not compared (the
 * backup does not have them: that is the data being restored, not access being lost), nor roles
 * missing from `stillThere` (dropped since the replaced database was read: nothing left to lose).
 */
export function lostAccess(
  before: RoleAccess,
  after: RoleAccess,
  stillThere?: ReadonlySet<string>,
): LostAccess[] {
  const lost: LostAccess[] = [];
  for (const [object, roles] of before) {
    const now = after.get(object);
    if (!now) continue;
    for (const [role, privileges] of Object.entries(roles)) {
      if (stillThere && !stillThere.has(role)) continue;
      const missing = privileges.filter((p) => !(now[role] ?? []).includes(p));
      if (missing.length > 0) lost.push({ role, object, privileges: missing });
    }
  }
  return lost.sort((a, b) => a.role.localeCompare(b.role) || a.object.localeCompare(b.object));
}

export function describeLost(lost: readonly LostAccess[], limit = 10): string {
  const lines = lost
    .slice(0, limit)
    .map((l) => `role ${l.role} loses ${l.privileges.join(', ')} on ${l.object}`);
  if (lost.length > limit) lines.push(`and ${lost.length - limit} more`);
  return lines.join('; ');
}

function objectLabel(r: { kind: string; schema: string; name: string }): string {
  return r.kind === 'schema'
    ? `schema ${readableName(r.name)}`
    : `${r.kind} ${readableName(r.schema, r.name)}`;
}
