import { z } from 'zod';
import { interval, nonNegativeInt, percent, positiveInt, schedule, size } from './fields';

/**
 * One schema per job section of a target. Each job's issue owns its section; the shapes here
 * are the contract between the config, the CLI and the Lambda events.
 */

export const backupSection = z.strictObject({
  /** EventBridge Scheduler expression; absent = the function exists but runs only on demand. */
  schedule: schedule().optional(),
  retentionDays: positiveInt('a whole number of days, at least 1').default(30),
  keepAtLeast: positiveInt('a whole number of backups, at least 1').default(3),
  /** Grandfather-father-son: the first backup of each of the last N days, ISO weeks, months, years. */
  keepDaily: nonNegativeInt('a whole number of days').optional(),
  keepWeekly: nonNegativeInt('a whole number of weeks').optional(),
  keepMonthly: nonNegativeInt('a whole number of months').optional(),
  keepYearly: nonNegativeInt('a whole number of years').optional(),
  /** Exact row counts in the dump's snapshot, for restore drills; "auto" = below 10 GB. */
  countRows: z
    .union([z.boolean(), z.literal('auto')], { error: 'expected true, false or "auto"' })
    .default('auto'),
});

const whereValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'expected a string, number, boolean or null',
});

export const retentionRule = z.strictObject({
  table: z.string({ error: 'expected a table name, optionally schema-qualified' }).min(1),
  column: z.string({ error: 'expected a column name' }).min(1).optional(),
  olderThan: interval(),
  where: z.record(z.string(), z.union([whereValue, z.array(whereValue).min(1)])).optional(),
  partitions: z.boolean().optional(),
  premake: nonNegativeInt('a whole number of partitions').optional(),
  maxRowsPerRun: positiveInt('a whole number of rows').optional(),
});

export const retentionSection = z.strictObject({
  schedule: schedule().optional(),
  rules: z.array(retentionRule).default([]),
  /** Share of a table's rows deleted above which it is vacuumed. */
  vacuumAbove: percent().default('10%'),
});

export const reindexSection = z.strictObject({
  schedule: schedule().optional(),
  mode: z
    .enum(['concurrently', 'database'], { error: 'expected "concurrently" or "database"' })
    .default('concurrently'),
  minSize: size().default('100 MB'),
  minBloat: percent().default('30%'),
  maxPerRun: positiveInt('a whole number of indexes').default(5),
  vacuumAnalyze: z.boolean().default(false),
  /** A transaction open longer than this makes a concurrent rebuild wait; skip the index instead. */
  maxTransactionAge: interval().default('5 minutes'),
});

const thresholdValue = z.union([z.string(), z.number()], {
  error: 'expected a threshold like "5 minutes", "80%", "5 GB" or a number',
});

export const healthSection = z.strictObject({
  schedule: schedule().optional(),
  thresholds: z
    .record(
      z.string(),
      z.strictObject({
        warning: thresholdValue.nullable().optional(),
        critical: thresholdValue.nullable().optional(),
        /** Size floor of the bloat and unused-index checks. */
        minSize: size().optional(),
        /** replication_slots: how long a slot may stay inactive before it warns. */
        inactiveFor: interval().optional(),
        /** server_version: the lowest minor release accepted per major, e.g. ["15.12", "16.8"]. */
        minimumVersions: z
          .array(z.string().regex(/^\d+\.\d+$/, { error: 'expected a version like "15.12"' }))
          .optional(),
        /** settings: server settings and the values they must have, e.g. { "ssl": "on" }. */
        expect: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]), {
            error: 'expected setting names with the values they must have, like { "ssl": "on" }',
          })
          .optional(),
      }),
    )
    .default({}),
});

export const restoreSection = z.strictObject({
  /** Scheduled restore drill: restore the latest backup into a scratch database and compare. */
  drillSchedule: schedule().optional(),
});
