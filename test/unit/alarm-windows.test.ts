import { describe, expect, it } from 'vitest';
import { noSuccessWindow } from '../../lib/job-alarms';

describe('the "no successful run" window for one schedule', () => {
  it.each([
    ['every 15 minutes', 900, { periodS: 1380, periods: 1 }],
    ['every 5 minutes (at least one 5-minute period)', 300, { periodS: 480, periods: 1 }],
    ['hourly', 3600, { periodS: 3600, periods: 2 }],
    ['daily', 86_400, { periodS: 3600, periods: 36 }],
    ['every 4 days', 4 * 86_400, { periodS: 3600, periods: 144 }],
    ['every 6.5 days (7 days still leaves a margin)', 6.5 * 86_400, { periodS: 3600, periods: 168 }],
  ])('%s', (_label, gapS, window) => {
    expect(noSuccessWindow(gapS)).toEqual(window);
  });

  it('has none for weekly and rarer schedules, or without a schedule', () => {
    expect(noSuccessWindow(7 * 86_400)).toBeUndefined();
    expect(noSuccessWindow(30 * 86_400)).toBeUndefined();
    expect(noSuccessWindow(undefined)).toBeUndefined();
  });
});
