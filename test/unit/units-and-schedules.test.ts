import { describe, expect, it } from 'vitest';
import { formatInZone, nextRuns, parseSchedule } from '../../functions/shared/schedule';
import {
  formatBytes,
  parseIntervalSeconds,
  parsePercent,
  parseSizeBytes,
} from '../../functions/shared/units';

describe('human units', () => {
  it.each([
    ['90 days', 90 * 86_400],
    ['0 days', 0],
    ['5 minutes', 300],
    ['1 hour', 3600],
    ['30 seconds', 30],
    ['2 weeks', 14 * 86_400],
  ])('interval %s = %d s', (text, seconds) => expect(parseIntervalSeconds(text)).toBe(seconds));

  it.each(['ninety days', '-1 days', '5', 'days'])('rejects interval %s', (text) =>
    expect(parseIntervalSeconds(text)).toBeUndefined(),
  );

  it.each([
    ['100 MB', 100 * 1024 ** 2],
    ['5 GB', 5 * 1024 ** 3],
    ['1 TB', 1024 ** 4],
  ])('size %s', (text, bytes) => expect(parseSizeBytes(text)).toBe(bytes));

  it('parses percentages and formats bytes', () => {
    expect(parsePercent('30%')).toBe(30);
    expect(parsePercent('30')).toBeUndefined();
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
  });
});

describe('EventBridge Scheduler expressions', () => {
  const from = new Date('2026-11-22T12:00:00Z');

  it('runs cron in the target time zone, across a DST change', () => {
    const parsed = parseSchedule('cron(0 2 * * ? *)');
    if ('error' in parsed) throw new Error(parsed.error);
    const runs = nextRuns(parsed, 'Europe/London', 2, new Date('2027-03-26T12:00:00Z'));
    // Clocks go forward on 28 March 2027: 02:00 local is 02:00 UTC before and 01:00 UTC after.
    expect(runs.map((r) => r.toISOString())).toEqual([
      '2027-03-27T02:00:00.000Z',
      '2027-03-28T01:00:00.000Z',
    ]);
    expect(formatInZone(runs[1] as Date, 'Europe/London')).toBe('2027-03-28 02:00 GMT+1');
  });

  const londonRuns = (expression: string, from: string, count = 3) => {
    const parsed = parseSchedule(expression);
    if ('error' in parsed) throw new Error(parsed.error);
    return nextRuns(parsed, 'Europe/London', count, new Date(from)).map((r) =>
      formatInZone(r, 'Europe/London'),
    );
  };

  it('skips a run in the hour the clocks skip, as EventBridge Scheduler does, instead of moving it', () => {
    // 01:30 does not exist in London on 28 March 2027 (01:00 GMT becomes 02:00 BST).
    expect(londonRuns('cron(30 1 * * ? *)', '2027-03-27T12:00:00Z', 2)).toEqual([
      '2027-03-29 01:30 GMT+1',
      '2027-03-30 01:30 GMT+1',
    ]);
    expect(londonRuns('cron(0 * * * ? *)', '2027-03-28T00:10:00Z', 2)).toEqual([
      '2027-03-28 02:00 GMT+1',
      '2027-03-28 03:00 GMT+1',
    ]);
  });

  it('runs once, not twice, in the hour the clocks repeat', () => {
    // 31 October 2027: 01:00-02:00 is lived first in BST, then again in GMT.
    expect(londonRuns('cron(0 * * * ? *)', '2027-10-30T23:30:00Z')).toEqual([
      '2027-10-31 01:00 GMT+1',
      '2027-10-31 02:00 GMT',
      '2027-10-31 03:00 GMT',
    ]);
    expect(londonRuns('cron(30 1 * * ? *)', '2027-10-31T00:59:00Z', 1)).toEqual(['2027-11-01 01:30 GMT']);
  });

  it('maps day-of-week numbers 1-7 (SUN=1) and nth weekday', () => {
    const first = parseSchedule('cron(0 4 ? * 1#1 *)');
    const named = parseSchedule('cron(0 4 ? * SUN#1 *)');
    if ('error' in first || 'error' in named) throw new Error('invalid');
    const a = nextRuns(first, 'UTC', 3, from).map((d) => d.toISOString());
    expect(a).toEqual(nextRuns(named, 'UTC', 3, from).map((d) => d.toISOString()));
    expect(a[0]).toBe('2026-12-06T04:00:00.000Z');
  });

  it('honours the year field', () => {
    const parsed = parseSchedule('cron(0 0 1 1 ? 2028)');
    if ('error' in parsed) throw new Error(parsed.error);
    expect(nextRuns(parsed, 'UTC', 2, from).map((d) => d.toISOString())).toEqual([
      '2028-01-01T00:00:00.000Z',
    ]);
  });

  it.each([
    ['cron(0 2 * * * *)', /"\?" in exactly one/],
    ['cron(0 2 * *)', /6 fields/],
    ['cron(0 25 * * ? *)', /invalid cron fields/],
    ['rate(1 hours)', /rate\(1 hour\)/],
    ['rate(5 minute)', /rate\(5 minutes\)/],
    ['at(2026-02-30T10:00:00)', /not a valid date-time/],
    ['daily', /EventBridge Scheduler syntax/],
  ])('%s is rejected with a reason', (expression, reason) => {
    const parsed = parseSchedule(expression);
    expect('error' in parsed ? parsed.error : 'accepted').toMatch(reason);
  });
});
