import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingsFromUrl } from '../../functions/shared/credentials';
import { createBucket, createRdsSecret, createTopicInbox, type Inbox, readObject } from '../helpers/aws';
import { runCli, runCliJson, writeConfig } from '../helpers/cli';
import { adminUrl, withAdmin } from '../helpers/database';

const suffix = randomBytes(3).toString('hex');
const role = (name: string) => `${name}_${suffix}`;
const OWNER = role('app_owner');
const APP = role('app_rw');
const OUTSIDER = role('outsider');
const RDS_PGMAINT = role('pgmaint_rds');
const PASSWORD = `pw-${suffix}`;

/** A URL of the test server as another login role. */
function urlAs(user: string, database: string): string {
  const url = new URL(adminUrl(database));
  url.username = user;
  url.password = PASSWORD;
  return url.toString();
}

async function asRole<T>(user: string, database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: urlAs(user, database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function inDatabase(database: string, sql: string): Promise<void> {
  await withAdmin((client) => client.query(sql).then(() => {}), database);
}

async function databasesLike(prefix: string): Promise<string[]> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1) order by 1',
      [prefix],
    );
    return rows.map((r) => r.datname);
  });
}

/** The database's own properties, as the catalog has them. */
async function databaseFacts(database: string) {
  return withAdmin(async (client) => {
    const { rows } = await client.query(
      `select pg_encoding_to_char(d.encoding) as encoding, d.datcollate, d.datctype, d.datlocprovider,
              d.daticulocale, pg_get_userbyid(d.datdba) as owner,
              shobj_description(d.oid, 'pg_database') as comment,
              has_database_privilege($2, d.oid, 'CONNECT') as outsider_connects,
              (select setconfig from pg_db_role_setting where setdatabase = d.oid and setrole = 0) as settings,
              (select setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
                where setdatabase = d.oid and r.rolname = $3) as app_settings
       from pg_database d where d.datname = $1`,
      [database, OUTSIDER, APP],
    );
    return rows[0];
  });
}

const hasIcu = () =>
  withAdmin(
    async (c) => (await c.query("select 1 from pg_collation where collname = 'sv-SE-x-icu'")).rowCount === 1,
  );

describe("restore: the database comes back as it was, usable by the application's roles", () => {
  let bucket: string;
  let inbox: Inbox;
  const made: string[] = [];

  beforeAll(async () => {
    bucket = await createBucket();
    inbox = await createTopicInbox();
    await withAdmin(async (c) => {
      await c.query(`create role ${OWNER} login password '${PASSWORD}'`);
      await c.query(`create role ${APP} login password '${PASSWORD}'`);
      await c.query(`create role ${OUTSIDER} login password '${PASSWORD}'`);
    });
  }, 60_000);

  afterAll(async () => {
    for (const name of made)
      for (const db of await databasesLike(name))
        await withAdmin((c) => c.query(`drop database if exists "${db}" with (force)`));
    await withAdmin(async (c) => {
      for (const r of [RDS_PGMAINT, OWNER, APP, OUTSIDER]) {
        for (const { datname } of (
          await c.query<{ datname: string }>('select datname from pg_database where datallowconn')
        ).rows)
          await withAdmin((d) => d.query(`drop owned by ${r}`), datname).catch(() => {});
        await c.query(`drop role if exists ${r}`);
      }
    });
  });

  /**
   * The application's database: owned by its owner role, an ICU sv-SE collation where the server
   * has ICU, PUBLIC may not connect, a comment, a search_path to a schema with a quoted name, a
   * per-role setting, tables the application role reads and writes, an inheritance parent.
   */
  async function createAppDatabase(prefix: string, options: { legacyReader?: string } = {}) {
    const name = `${prefix}_${suffix}_${randomBytes(2).toString('hex')}`;
    made.push(name);
    const locale = (await hasIcu())
      ? "locale_provider icu icu_locale 'sv-SE' locale 'C.UTF-8'"
      : "locale 'C.UTF-8'";
    await withAdmin((c) => c.query(`create database ${name} owner ${OWNER} template template0 ${locale}`));
    await withAdmin(async (c) => {
      await c.query(`comment on database ${name} is 'the application''s; DATABASE ${name} here'`);
      await c.query(`revoke connect, temporary on database ${name} from public`);
      await c.query(`grant connect on database ${name} to ${APP}`);
      await c.query(`alter database ${name} set search_path = "Order Items", public`);
      await c.query(`alter role ${APP} in database ${name} set statement_timeout = '7s'`);
    });
    await inDatabase(
      name,
      `set role ${OWNER};
       create schema "Order Items";
       create table "Order Items".lines (id serial primary key, s text);
       insert into "Order Items".lines (s) values ('a'), ('B'), ('z'), ('ö');
       create table "Order Items".events (id int, note text);
       create table "Order Items".events_2024 () inherits ("Order Items".events);
       insert into "Order Items".events values (1, 'parent');
       insert into "Order Items".events_2024 values (2, 'child'), (3, 'child');
       grant usage on schema "Order Items" to ${APP};
       grant select, insert, update, delete on all tables in schema "Order Items" to ${APP};
       grant usage on all sequences in schema "Order Items" to ${APP};
       ${options.legacyReader ? `grant select on "Order Items".lines to ${options.legacyReader};` : ''}`,
    );
    const secret = await createRdsSecret(settingsFromUrl(adminUrl(name)));
    return { name, secret };
  }

  const configFor = (secret: string, restore?: Record<string, unknown>) =>
    writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: { app: { secret, ...(restore ? { restore } : {}) } },
    });

  it('after a replace-restore the application role reads and writes as before, and the database has its properties back', async () => {
    const app = await createAppDatabase('owners_replace');
    const config = configFor(app.secret);
    const backup = await runCli(['backup', '--config', config, '--target', 'app', '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const before = await databaseFacts(app.name);

    const result = await runCliJson([
      'restore',
      '--config',
      config,
      '--target',
      'app',
      '--replace',
      '--confirm',
      app.name,
      '--json',
    ]);

    // The application, as itself, unqualified names through the restored search_path.
    await asRole(APP, app.name, async (c) => {
      await c.query(`insert into "Order Items".lines (s) values ('qualified')`);
      await c.query(`delete from "Order Items".lines where s = 'qualified'`);
      expect((await c.query('select s from lines order by s')).rows.map((r) => r.s)).toEqual(
        (await hasIcu()) ? ['a', 'B', 'z', 'ö'] : ['B', 'a', 'z', 'ö'],
      );
      await c.query("insert into lines (s) values ('new')");
      await c.query("update lines set s = 'changed' where s = 'new'");
      await c.query("delete from lines where s = 'changed'");
      expect((await c.query('show statement_timeout')).rows[0].statement_timeout).toBe('7s');
    });
    expect(result).toMatchObject({ status: 'restored', owners: 'from the backup', changedFromReplaced: [] });
    const after = await databaseFacts(app.name);
    expect(after).toEqual(before);
    expect(after).toMatchObject({
      encoding: 'UTF8',
      owner: OWNER,
      comment: `the application's; DATABASE ${app.name} here`,
      outsider_connects: false,
      settings: ['search_path="Order Items", public'],
      app_settings: ['statement_timeout=7s'],
    });
    if (await hasIcu()) expect(after).toMatchObject({ datlocprovider: 'i', daticulocale: 'sv-SE' });
    // The replaced database is kept, untouched, owned as before.
    expect((await databaseFacts(result.keptAs))?.owner).toBe(OWNER);
  });

  it('restores owners and grants the same way when the archive is streamed (larger than /tmp)', async () => {
    const app = await createAppDatabase('owners_streamed');
    const config = configFor(app.secret);
    expect((await runCli(['backup', '--config', config, '--target', 'app'])).code).toBe(0);
    process.env.PGMAINT_RESTORE_TMP_LIMIT_BYTES = '0';
    try {
      const out = await runCliJson([
        'restore',
        '--config',
        config,
        '--target',
        'app',
        '--replace',
        '--confirm',
        app.name,
        '--json',
      ]);
      expect(out).toMatchObject({ status: 'restored', owners: 'from the backup' });
    } finally {
      delete process.env.PGMAINT_RESTORE_TMP_LIMIT_BYTES;
    }
    await asRole(APP, app.name, async (c) => {
      await c.query("insert into lines (s) values ('streamed')");
      expect((await c.query('select count(*)::int as n from lines')).rows).toEqual([{ n: 5 }]);
    });
    expect(await databaseFacts(app.name)).toMatchObject({ owner: OWNER, outsider_connects: false });
  });

  it('a LATIN1 database with the C locale comes back LATIN1 and C, its text intact', async () => {
    const name = `owners_latin1_${suffix}`;
    made.push(name);
    await withAdmin((c) =>
      c.query(`create database ${name} template template0 encoding 'LATIN1' locale 'C'`),
    );
    await inDatabase(name, "create table words (w text); insert into words values ('café'), ('Ærø');");
    const secret = await createRdsSecret(settingsFromUrl(adminUrl(name)));
    const config = configFor(secret);
    expect((await runCli(['backup', '--config', config, '--target', 'app'])).code).toBe(0);
    const out = await runCli([
      'restore',
      '--config',
      config,
      '--target',
      'app',
      '--into',
      `${name}_copy`,
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(await databaseFacts(`${name}_copy`)).toMatchObject({
      encoding: 'LATIN1',
      datcollate: 'C',
      datctype: 'C',
      datlocprovider: 'c',
    });
    const words = await withAdmin(
      async (c) => (await c.query('select w from words order by w')).rows.map((r) => r.w),
      `${name}_copy`,
    );
    expect(words).toEqual(['café', 'Ærø'].sort());
  });

  it('counts an inheritance parent by its own rows, and a new database keeps owners when asked', async () => {
    const app = await createAppDatabase('owners_counts');
    const config = configFor(app.secret);
    const { key } = await runCliJson(['backup', '--config', config, '--target', 'app', '--json']);
    const manifest = JSON.parse((await readObject(bucket, `${key}.manifest.json`)).toString());
    const count = (table: string) =>
      manifest.tables.find((t: { name: string }) => t.name === table)?.rowCount;
    expect([count('events'), count('events_2024')]).toEqual([1, 2]);

    const out = await runCliJson([
      'restore',
      '--config',
      config,
      '--target',
      'app',
      '--into',
      `${app.name}_kept`,
      '--keep-owners',
      '--json',
    ]);
    expect(out).toMatchObject({
      status: 'restored',
      owners: 'from the backup',
      mismatches: [],
    });
    expect(await databaseFacts(`${app.name}_kept`)).toMatchObject({ owner: OWNER, outsider_connects: false });
    await asRole(APP, `${app.name}_kept`, async (c) => {
      expect((await c.query('select count(*)::int as n from only "Order Items".events')).rows).toEqual([
        { n: 1 },
      ]);
    });
    // Without --keep-owners a new database stays pgmaint's, as before.
    const plain = await runCliJson([
      'restore',
      '--config',
      config,
      '--target',
      'app',
      '--into',
      `${app.name}_plain`,
      '--json',
    ]);
    expect(plain.owners).toBe('pgmaint');
    expect((await databaseFacts(`${app.name}_plain`))?.encoding).toBe('UTF8');
  });

  it("counts an extension's configuration table, whose rows pg_dump dumps", async () => {
    const name = `owners_extconfig_${suffix}`;
    made.push(name);
    await withAdmin((c) => c.query(`create database ${name}`));
    // No extension shipped with this server has a configuration table; make pg_trgm's own one
    // the way pg_extension_config_dump() records it.
    await inDatabase(
      name,
      `create extension pg_trgm;
       create table ext_settings (k text); insert into ext_settings values ('a'), ('b'), ('c');
       alter extension pg_trgm add table ext_settings;
       update pg_extension set extconfig = array['ext_settings'::regclass::oid], extcondition = array['']
        where extname = 'pg_trgm';`,
    );
    const config = configFor(await createRdsSecret(settingsFromUrl(adminUrl(name))));
    const { key } = await runCliJson(['backup', '--config', config, '--target', 'app', '--json']);
    const manifest = JSON.parse((await readObject(bucket, `${key}.manifest.json`)).toString());
    expect(manifest.tables).toContainEqual(expect.objectContaining({ name: 'ext_settings', rowCount: 3 }));
  });

  it('refuses a replace whose backup names a role this server lacks, creating nothing', async () => {
    const legacy = role('legacy_reader');
    await withAdmin((c) => c.query(`create role ${legacy}`));
    const app = await createAppDatabase('owners_missing', { legacyReader: legacy });
    const config = configFor(app.secret);
    expect((await runCli(['backup', '--config', config, '--target', 'app'])).code).toBe(0);
    await inDatabase(app.name, `revoke all on "Order Items".lines from ${legacy}`);
    await withAdmin((c) => c.query(`drop role ${legacy}`));
    const before = await databasesLike(app.name);

    const out = await runCli([
      'restore',
      '--config',
      config,
      '--target',
      'app',
      '--replace',
      '--confirm',
      app.name,
    ]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`do not exist on this server: ${legacy}`);
    expect(out.stderr).toContain('targets.app.restore.owner');
    expect(out.stderr).toContain('nothing was created');
    expect(await databasesLike(app.name)).toEqual(before);
    await asRole(APP, app.name, async (c) => {
      expect((await c.query('select count(*)::int as n from lines')).rows).toEqual([{ n: 4 }]);
    });
  });

  it('with restore.owner, restores without the missing roles but refuses to swap when the application would lose its grants', async () => {
    const legacy = role('gone_reader');
    await withAdmin((c) => c.query(`create role ${legacy}`));
    const app = await createAppDatabase('owners_fallback', { legacyReader: legacy });
    const config = configFor(app.secret, { owner: OWNER });
    expect((await runCli(['backup', '--config', config, '--target', 'app'])).code).toBe(0);
    await inDatabase(app.name, `revoke all on "Order Items".lines from ${legacy}`);
    await withAdmin((c) => c.query(`drop role ${legacy}`));

    const out = await runCli([
      'restore',
      '--config',
      config,
      '--target',
      'app',
      '--replace',
      '--confirm',
      app.name,
    ]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`refusing to swap the restored copy in for "${app.name}"`);
    expect(out.stderr).toContain(
      `role ${APP} loses SELECT, INSERT, UPDATE, DELETE on table "Order Items".lines`,
    );
    expect(out.stderr).toMatch(
      /is still live and untouched; the restored copy is kept as "[^"]+_restore_\d{12}"/,
    );
    // Live is the old database, still usable; the restored copy is there to inspect, owned by restore.owner.
    await asRole(APP, app.name, async (c) => {
      expect((await c.query('select count(*)::int as n from lines')).rows).toEqual([{ n: 4 }]);
    });
    const copies = (await databasesLike(`${app.name}_restore_`)).filter((d) => /_restore_\d{12}$/.test(d));
    expect(copies).toHaveLength(1);
    expect((await databaseFacts(copies[0] as string))?.owner).toBe(OWNER);
  });
  it('as a role that is not a superuser (RDS), refuses with the GRANT to run, then restores owners once it is granted', async () => {
    const pgmaint = RDS_PGMAINT;
    await withAdmin((c) =>
      c.query(
        `create role ${pgmaint} login createdb createrole password '${PASSWORD}' in role pg_signal_backend`,
      ),
    );
    const app = await createAppDatabase('owners_rds');
    await withAdmin((c) => c.query(`grant connect on database ${app.name} to ${pgmaint}`));
    const rdsSecret = await createRdsSecret(settingsFromUrl(urlAs(pgmaint, app.name)));
    const config = writeConfig({
      alerts: { topicArn: inbox.topicArn },
      backupBucket: bucket,
      targets: { app: { secret: app.secret }, rds: { secret: rdsSecret } },
    });
    expect((await runCli(['backup', '--config', config, '--target', 'app'])).code).toBe(0);
    const replace = () =>
      runCli([
        'restore',
        '--config',
        config,
        '--target',
        'rds',
        '--from',
        'app',
        '--replace',
        '--confirm',
        app.name,
        '--json',
      ]);

    const before = await databasesLike(app.name);
    const refused = await replace();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`pgmaint's role "${pgmaint}" is not a member of ${OWNER}`);
    expect(refused.stderr).toContain(`GRANT ${OWNER} TO ${pgmaint};`);
    expect(await databasesLike(app.name)).toEqual(before);

    await withAdmin((c) => c.query(`grant ${OWNER} to ${pgmaint}`));
    const out = await replace();
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ status: 'restored', owners: 'from the backup' });
    await asRole(APP, app.name, async (c) => {
      await c.query("insert into lines (s) values ('after rds restore')");
    });
    expect(await databaseFacts(app.name)).toMatchObject({ owner: OWNER, outsider_connects: false });
  });
});
