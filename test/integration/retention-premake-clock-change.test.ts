import { describe, expect, it } from 'vitest';
import { listPartitions, plannedPartitions } from '../../functions/retention/partitions';
import { resolveRules } from '../../functions/retention/rules';
import { retentionRule } from '../../functions/shared/config/sections';
import { testResources } from '../helpers/test-resources';

/**
 * Premaking across a clock change, planned as of a fixed instant (the query's `now`, injected) so
 * these hold on any day: daily partitions cut at UTC midnight, as an application running in UTC
 * makes them, read through a session in Europe/London, where the UTC day holding the change to
 * summer time lasts 25 hours on the wall clock.
 */
describe('retention premake across a clock change (PostgreSQL, session in Europe/London)', () => {
  const { database, defer } = testResources();

  async function plan(ddl: string, premake: number, asOf: string) {
    const db = await database('ret_premake_dst');
    await db.sql(ddl);
    const client = await db.connect();
    defer(() => client.end());
    await client.query(`set timezone = 'Europe/London'`);
    const check = await resolveRules(
      client,
      [retentionRule.parse({ table: 'ticks', partitions: true, olderThan: '30 days', premake })],
      'rules',
    );
    expect(check.problems).toEqual([]);
    const rule = check.rules[0];
    if (rule?.kind !== 'partitions') throw new Error('expected a partition rule');
    const partitions = await listPartitions(client, rule, '2000-01-01 00:00:00+00');
    const { planned, warning } = await plannedPartitions(client, rule, partitions, asOf);
    expect(warning).toBeUndefined();
    // Bounds shown in UTC, so the expectations read the same whatever the session's zone.
    const utc = async (bound: string) =>
      (
        await client.query<{ t: string }>(
          `select to_char($1::timestamptz at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as t`,
          [bound],
        )
      ).rows[0]?.t;
    return Promise.all(
      planned.map(async (p) => ({
        name: p.name,
        from: await utc(p.lowerBound),
        to: await utc(p.upperBound),
      })),
    );
  }

  it('keeps UTC-midnight days on UTC midnights, named by their UTC date, across the change to summer time', async () => {
    const planned = await plan(
      `create table ticks (at timestamptz not null) partition by range (at);
       create table ticks_20270327 partition of ticks for values from ('2027-03-27 00:00+00') to ('2027-03-28 00:00+00');
       create table ticks_20270328 partition of ticks for values from ('2027-03-28 00:00+00') to ('2027-03-29 00:00+00');`,
      3,
      '2027-03-28 00:30:00+00',
    );
    expect(planned).toEqual([
      { name: 'ticks_20270329', from: '2027-03-29 00:00', to: '2027-03-30 00:00' },
      { name: 'ticks_20270330', from: '2027-03-30 00:00', to: '2027-03-31 00:00' },
      { name: 'ticks_20270331', from: '2027-03-31 00:00', to: '2027-04-01 00:00' },
    ]);
  });

  it('keeps London-midnight days on London midnights across the change back to winter time', async () => {
    const planned = await plan(
      `set timezone = 'Europe/London';
       create table ticks (at timestamptz not null) partition by range (at);
       create table ticks_20271030 partition of ticks for values from ('2027-10-30') to ('2027-10-31');`,
      2,
      '2027-10-30 12:00:00+00',
    );
    // 31 October lasts 25 hours in London: 23:00 UTC the day before to 00:00 UTC.
    expect(planned).toEqual([
      { name: 'ticks_20271031', from: '2027-10-30 23:00', to: '2027-11-01 00:00' },
      { name: 'ticks_20271101', from: '2027-11-01 00:00', to: '2027-11-02 00:00' },
    ]);
  });

  it('steps hourly partitions by the hour through the hour London skips', async () => {
    const planned = await plan(
      `create table ticks (at timestamptz not null) partition by range (at);
       create table ticks_20270328_0000 partition of ticks for values from ('2027-03-28 00:00+00') to ('2027-03-28 01:00+00');`,
      2,
      '2027-03-28 00:30:00+00',
    );
    // Names keep following the session's wall clock: 01:00 UTC is 02:00 in London that morning.
    expect(planned).toEqual([
      { name: 'ticks_20270328_0200', from: '2027-03-28 01:00', to: '2027-03-28 02:00' },
      { name: 'ticks_20270328_0300', from: '2027-03-28 02:00', to: '2027-03-28 03:00' },
    ]);
  });

  it('keeps months on the 1st, through a leap February', async () => {
    const planned = await plan(
      `create table ticks (day date not null) partition by range (day);
       create table ticks_2028_01 partition of ticks for values from ('2028-01-01') to ('2028-02-01');`,
      3,
      '2028-02-29 23:30:00+00',
    );
    // The one holding the instant (February) and three after it; London midnights from April on are 23:00 UTC.
    expect(planned).toEqual([
      { name: 'ticks_2028_02', from: '2028-02-01 00:00', to: '2028-03-01 00:00' },
      { name: 'ticks_2028_03', from: '2028-03-01 00:00', to: '2028-03-31 23:00' },
      { name: 'ticks_2028_04', from: '2028-03-31 23:00', to: '2028-04-30 23:00' },
      { name: 'ticks_2028_05', from: '2028-04-30 23:00', to: '2028-05-31 23:00' },
    ]);
  });
});
