import * as z from 'zod';

/** The Lambda event (minus `target`) and the CLI flags of `pgmaint report`. */
export const reportOptions = z.strictObject({
  /** Also publish the report to the alert topic (the scheduled report does). */
  publish: z.boolean({ error: 'expected true or false' }).default(false),
  /** How many of the newest drills to list (every kept drill counts in the summary). */
  drills: z
    .number({ error: 'expected a whole number of drills from 1 to 100' })
    .int({ error: 'expected a whole number of drills from 1 to 100' })
    .min(1, { error: 'expected a whole number of drills from 1 to 100' })
    .max(100, { error: 'expected a whole number of drills from 1 to 100' })
    .default(10),
});

export type ReportOptions = z.output<typeof reportOptions>;
