import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lostAccess, readRoleAccess, rolesStillThere } from '../../functions/restore/role-access';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';

// The replace check reads the live database's access, then the restored one's: roles are the
// server's, so any session may drop one in between (another test file on the same server did).
describe('restore --replace: a role dropped between reading the two databases loses nothing', () => {
  let db: TestDatabase;
  const role = `dropped_meanwhile_${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase('role_access');
    await db.sql(`create role ${role} login`);
    await db.sql(`create table orders (id int)`);
    await db.sql(`grant select on orders to ${role}`);
  });
  afterAll(async () => {
    await withAdmin((c) => c.query(`drop owned by ${role} cascade`).catch(() => {}), db.name);
    await withAdmin((c) => c.query(`drop role if exists ${role}`));
    await db?.drop();
  });

  it('is not reported as losing its access once it is gone, while a role still there would be', async () => {
    const client = await db.connect();
    try {
      const before = await readRoleAccess(client);
      expect(before.get('table public.orders')?.[role]).toEqual(['SELECT']);
      expect(await rolesStillThere(client, before)).toContain(role);
      await client.query(`drop owned by ${role}`);
      await client.query(`drop role ${role}`);
      const after = await readRoleAccess(client);
      // Without the check the role would be said to lose SELECT (and CONNECT, TEMPORARY from PUBLIC).
      expect(lostAccess(before, after).some((l) => l.role === role)).toBe(true);
      const stillThere = await rolesStillThere(client, before);
      expect(stillThere.has(role)).toBe(false);
      expect(lostAccess(before, after, stillThere).filter((l) => l.role === role)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
