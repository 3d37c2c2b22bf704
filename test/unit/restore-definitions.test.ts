import { describe, expect, it } from 'vitest';
import {
  compareDefinitions,
  forDatabase,
  readDatabaseDefinition,
} from '../../functions/restore/database-definition';
import { lostAccess, type RoleAccess } from '../../functions/restore/role-access';
import { rolesInAcl, splitStatements } from '../../functions/restore/sql-statements';

/** What `pg_restore --create -L <database entries> -f -` prints (PostgreSQL 15, with \restrict). */
const ARCHIVE_SQL = `
\\restrict abc
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
--
-- Name: Titan Prod; Type: DATABASE; Schema: -; Owner: app_owner
--
CREATE DATABASE "Titan Prod" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'sv-SE';
ALTER DATABASE "Titan Prod" OWNER TO app_owner;
\\unrestrict abc
\\connect -reuse-previous=on "dbname='Titan Prod'"
COMMENT ON DATABASE "Titan Prod" IS 'it''s prod;
\\not a meta-command inside a string
DATABASE "Titan Prod" here';
ALTER DATABASE "Titan Prod" SET search_path TO 'Order Items', 'public';
ALTER ROLE "App RW" IN DATABASE "Titan Prod" SET work_mem TO '8MB';
REVOKE CONNECT,TEMPORARY ON DATABASE "Titan Prod" FROM PUBLIC;
GRANT CONNECT ON DATABASE "Titan Prod" TO "App RW";
`;

describe('reading the database out of pg_dump SQL', () => {
  const definition = readDatabaseDefinition(ARCHIVE_SQL);

  it('reads the name, creation options, owner, comment, settings, role settings and grants', () => {
    expect(definition).toMatchObject({
      name: 'Titan Prod',
      options: { ENCODING: 'UTF8', LOCALE_PROVIDER: 'icu', LOCALE: 'C.UTF-8', ICU_LOCALE: 'sv-SE' },
      owner: 'app_owner',
      roleSettings: [{ role: 'App RW' }],
    });
    expect(definition?.comment).toHaveLength(1);
    expect(definition?.settings).toHaveLength(1);
    expect(definition?.acl).toHaveLength(2);
  });

  it('puts each statement under another name, never touching the text of a string', () => {
    expect(forDatabase(definition?.create ?? '', 'copy_1')).toBe(
      `CREATE DATABASE "copy_1" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'sv-SE'`,
    );
    expect(forDatabase(definition?.comment[0] ?? '', 'copy_1')).toBe(
      `COMMENT ON DATABASE "copy_1" IS 'it''s prod;\n\\not a meta-command inside a string\nDATABASE "Titan Prod" here'`,
    );
    expect(forDatabase(definition?.roleSettings[0]?.statement ?? '', 'copy_1')).toBe(
      `ALTER ROLE "App RW" IN DATABASE "copy_1" SET work_mem TO '8MB'`,
    );
  });

  it('compares two databases whatever their names, LOCALE standing for LC_COLLATE and LC_CTYPE', () => {
    // pg_dump of the restored copy: another name everywhere but inside the comment's text.
    const restoredSql = ARCHIVE_SQL.replaceAll('"Titan Prod"', 'titan_restore_202612011200')
      .replace(`DATABASE titan_restore_202612011200 here'`, `DATABASE "Titan Prod" here'`)
      .replace("LOCALE = 'C.UTF-8'", "LC_COLLATE = 'C.UTF-8' LC_CTYPE = 'C.UTF-8'");
    const restored = readDatabaseDefinition(restoredSql);
    const every = ['encoding and locale', 'owner', 'comment', 'settings', 'role settings', 'grants'] as const;
    expect(definition && restored && compareDefinitions(definition, restored, every)).toEqual([]);
    const moved = readDatabaseDefinition(restoredSql.replace('OWNER TO app_owner', 'OWNER TO postgres'));
    expect(definition && moved && compareDefinitions(definition, moved, every)).toEqual([
      { property: 'owner', expected: 'app_owner', actual: 'postgres' },
    ]);
    const latin1 = readDatabaseDefinition(ARCHIVE_SQL.replace("ENCODING = 'UTF8'", "ENCODING = 'LATIN1'"));
    expect(definition && latin1 && compareDefinitions(definition, latin1, ['encoding and locale'])).toEqual([
      expect.objectContaining({ property: 'encoding and locale' }),
    ]);
  });

  it('finds no database in SQL without CREATE DATABASE', () => {
    expect(readDatabaseDefinition('GRANT SELECT ON TABLE public.t TO app;')).toBeNull();
  });
});

describe('roles named by grants', () => {
  const roles = (sql: string) => splitStatements(sql).flatMap(rolesInAcl);

  it.each([
    ['GRANT SELECT,INSERT ON TABLE "Order Items".lines TO app_rw;', ['app_rw']],
    ['REVOKE ALL ON SCHEMA public FROM PUBLIC;', []],
    [
      'GRANT SELECT(a, "to") ON TABLE public.t TO "Read Only", reporting WITH GRANT OPTION;',
      ['Read Only', 'reporting'],
    ],
    ['GRANT ALL ON FUNCTION public.f(a integer, "from" text) TO app;', ['app']],
    [
      'ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;',
      ['app_owner', 'app_ro'],
    ],
  ])('%s', (sql, expected) => {
    expect(roles(sql)).toEqual(expected);
  });
});

describe('access lost between the replaced and the restored database', () => {
  it('names each privilege a role had and no longer has, ignoring objects the backup does not have', () => {
    const before: RoleAccess = new Map<string, Record<string, string[]>>([
      ['database', { app: ['CONNECT'] }],
      ['table public.orders', { app: ['SELECT', 'INSERT'], ro: ['SELECT'] }],
      ['table public.staging_only', { app: ['SELECT'] }],
    ]);
    const after: RoleAccess = new Map<string, Record<string, string[]>>([
      ['database', { app: ['CONNECT', 'TEMPORARY'] }],
      ['table public.orders', { ro: ['SELECT'], app: ['SELECT'] }],
    ]);
    expect(lostAccess(before, after)).toEqual([
      { role: 'app', object: 'table public.orders', privileges: ['INSERT'] },
    ]);
  });

  it('leaves out a role dropped between the two reads: it has nothing left to lose', () => {
    const before: RoleAccess = new Map<string, Record<string, string[]>>([
      ['database', { app: ['CONNECT'], gone: ['CONNECT', 'TEMPORARY'] }],
      ['schema public', { app: ['USAGE'], gone: ['USAGE'] }],
    ]);
    const after: RoleAccess = new Map<string, Record<string, string[]>>([
      ['database', { app: ['CONNECT'] }],
      ['schema public', {}],
    ]);
    expect(lostAccess(before, after, new Set(['app']))).toEqual([
      { role: 'app', object: 'schema public', privileges: ['USAGE'] },
    ]);
  });
});
