import * as z from 'zod';
import { parseSchedule } from '../schedule';
import { parseIntervalSeconds, parsePercent, parseSizeBytes } from '../units';

/** Field types shared by every section of the config, each with the message a user sees. */

const INTERVAL = 'expected an interval like "90 days" (units: seconds, minutes, hours, days, weeks)';
const SIZE = 'expected a size like "100 MB" (units: B, kB, MB, GB, TB)';

export const interval = () =>
  z.string({ error: INTERVAL }).refine((text) => parseIntervalSeconds(text) !== undefined, {
    error: (issue) => `${INTERVAL}, got ${JSON.stringify(issue.input)}`,
  });

export const size = () =>
  z.string({ error: SIZE }).refine((text) => parseSizeBytes(text) !== undefined, {
    error: (issue) => `${SIZE}, got ${JSON.stringify(issue.input)}`,
  });

/** A percentage up to `max` (100 unless a share of something else, like a batch's time, may exceed it). */
export const percent = (max = 100) => {
  const expected = `expected a percentage from 0% to ${max}%, like "30%"`;
  return z.string({ error: expected }).refine((text) => parsePercent(text, max) !== undefined, {
    error: (issue) => `${expected}, got ${JSON.stringify(issue.input)}`,
  });
};

export const schedule = () =>
  z
    .string({ error: 'expected a schedule like "cron(0 2 * * ? *)" or "rate(15 minutes)"' })
    .superRefine((text, ctx) => {
      const parsed = parseSchedule(text);
      if ('error' in parsed) ctx.addIssue({ code: 'custom', message: `${parsed.error} (got "${text}")` });
    });

export const positiveInt = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });

export const nonNegativeInt = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(0, { error: `expected ${what}` });

/**
 * A config section whose schema is built the first time a config has it, then kept. Building
 * every job's schemas costs more CPU than a whole `pgmaint health --check connection` run
 * (zod binds each schema's methods as it is made), and most targets set only a few sections.
 * The section is checked exactly as `build()`'s schema checks it: like zod's own `z.lazy`, it
 * runs the built schema on the value and hands on its issues as they are (so the target's own
 * refinements still run or stop as before), but without asking that schema whether it is
 * optional first, which would build every section of every config.
 */
export function lazySection<T extends z.ZodType>(build: () => T) {
  let schema: T | undefined;
  return z.unknown().transform((value, ctx): z.output<T> => {
    schema ??= build();
    const result = schema._zod.run({ value, issues: [] }, { async: false });
    if (result instanceof Promise) throw new Error('a config section must not be asynchronous');
    ctx.issues.push(...result.issues);
    return result.value as z.output<T>;
  });
}
