import { describe, expect, it } from 'vitest';
import { connect } from '../../functions/shared/db';
import {
  resetSessionLimits,
  setSessionLimits,
  setTransactionLimits,
} from '../../functions/shared/pg/session-limits';
import { ident, identList, serverLiteral } from '../../functions/shared/pg/sql-names';
import { testResources } from '../helpers/test-resources';

/** The two PostgreSQL helpers every job uses, against the real server's lexer and settings. */
describe('identifiers and session limits on a real server', () => {
  const { database, defer } = testResources();

  it('creates and finds tables and columns whose names are odd in every way, exactly as spelled', async () => {
    const db = await database('pg_names');
    const names = [
      ['Mixed Case', 'Audit Logs'],
      ['quo"te', 'tab"le'],
      ['données', 'größe_ñ'],
      ['dot.ted', 'a.b'],
      ['public', 'x; drop table y --'],
      ['public', 'a'.repeat(63)],
      ['public', `${'é'.repeat(31)}a`],
    ] as const;
    const client = await db.connect();
    defer(() => client.end());
    for (const [schema, table] of names) {
      await client.query(`create schema if not exists ${ident(schema)}`);
      await client.query(`create table ${ident(schema, table)} (${ident('Id')} int, ${ident('it"s')} int)`);
      await client.query(`insert into ${ident(schema, table)} (${identList(['Id', 'it"s'])}) values (1, 2)`);
      const found = await client.query<{ nspname: string; relname: string; columns: string[] }>(
        `select n.nspname, c.relname, array(select attname::text from pg_attribute
                                              where attrelid = c.oid and attnum > 0 order by attnum) as columns
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.oid = $1::regclass`,
        [ident(schema, table)],
      );
      expect(found.rows).toEqual([{ nspname: schema, relname: table, columns: ['Id', 'it"s'] }]);
    }
    const literal = await client.query<{ v: string }>(`select ${serverLiteral("O'Brien \\ back")} as v`);
    expect(literal.rows[0]?.v).toBe("O'Brien \\ back");
  });

  it('keeps session limits for the session, transaction limits for the transaction, and resets to the startup ones', async () => {
    const db = await database('pg_limits');
    const client = await connect(db.settings, {
      job: 'test',
      statementTimeoutMs: 45_000,
      lockTimeoutMs: 2_000,
    });
    defer(() => client.end());
    const settings = async () =>
      (
        await client.query<Record<string, string>>(
          `select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock,
                  current_setting('idle_in_transaction_session_timeout') as idle,
                  current_setting('application_name') as app`,
        )
      ).rows[0];
    expect(await settings()).toEqual({ statement: '45s', lock: '2s', idle: '0', app: 'pgmaint/test' });

    await setSessionLimits(client, { statementTimeoutMs: 1_500.4, idleInTransactionTimeoutMs: 60_000 });
    expect(await settings()).toMatchObject({ statement: '1500ms', lock: '2s', idle: '1min' });

    await client.query('begin');
    await setTransactionLimits(client, { lockTimeoutMs: 0.2, statementTimeoutMs: 250 });
    // A deadline that has all but run out is 1 ms, never 0 (no limit).
    expect(await settings()).toMatchObject({ statement: '250ms', lock: '1ms' });
    await client.query('commit');
    expect(await settings()).toMatchObject({ statement: '1500ms', lock: '2s' });

    await setSessionLimits(client, { lockTimeoutMs: 0 });
    expect(await settings()).toMatchObject({ lock: '0' });
    await resetSessionLimits(client, ['statementTimeoutMs', 'lockTimeoutMs', 'idleInTransactionTimeoutMs']);
    expect(await settings()).toEqual({ statement: '45s', lock: '2s', idle: '0', app: 'pgmaint/test' });
  });

  it('cancels a statement past a session limit set through the helper', async () => {
    const db = await database('pg_limits_fire');
    const client = await connect(db.settings, { job: 'test' });
    defer(() => client.end());
    await setSessionLimits(client, { statementTimeoutMs: 50 });
    await expect(client.query('select pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
  });

  it('turns a timeout off when asked for none, even where the database sets one', async () => {
    const db = await database('pg_no_limits');
    const admin = await db.connect();
    defer(() => admin.end());
    await admin.query(`alter database ${ident(db.name)} set statement_timeout = '100ms'`);
    const client = await connect(db.settings, { job: 'test', statementTimeoutMs: 0 });
    defer(() => client.end());
    const setting = await client.query<{ v: string }>(`select current_setting('statement_timeout') as v`);
    expect(setting.rows[0]?.v).toBe('0');
    await expect(client.query('select pg_sleep(0.3)')).resolves.toBeDefined();
    const limited = await connect(db.settings, { job: 'test' });
    defer(() => limited.end());
    await expect(limited.query('select pg_sleep(0.3)')).rejects.toThrow(/statement timeout/);
  });
});
