import { z } from 'zod';
import { HEALTH_CHECKS } from '../../health/checks';
import { thresholdIssues } from '../../health/thresholds';
import { identifierProblem, qualifiedNameProblem } from '../identifiers';
import { REINDEX_MIN_BLOAT, REINDEX_MIN_SIZE } from './defaults';
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
  keepMonthly: nonNegativeInt('a whole number of months').optional(),
  /** Exact row counts in the dump's snapshot, for restore drills; "auto" = below 10 GB. */
  countRows: z
    .union([z.boolean(), z.literal('auto')], { error: 'expected true, false or "auto"' })
    .default('auto'),
});

const whereValue = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'expected a string, number, boolean or null',
});

/** A string that must be one SQL name (or `[schema.]table`): refused here, never sent to the server. */
const sqlName = (what: 'column' | 'table') =>
  z
    .string({
      error:
        what === 'table' ? 'expected a table name, optionally schema-qualified' : 'expected a column name',
    })
    .superRefine((text, ctx) => {
      const problem = what === 'table' ? qualifiedNameProblem(text) : identifierProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

export const retentionRule = z
  .strictObject({
    table: sqlName('table'),
    column: sqlName('column').optional(),
    olderThan: interval(),
    where: z.record(sqlName('column'), z.union([whereValue, z.array(whereValue).min(1)])).optional(),
    partitions: z.boolean().optional(),
    premake: nonNegativeInt('a whole number of partitions').optional(),
    maxRowsPerRun: positiveInt('a whole number of rows').optional(),
  })
  .superRefine((rule, ctx) => {
    const problem = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (rule.partitions === true) {
      if (rule.where)
        problem('where', '"where" cannot be used with "partitions": whole partitions are dropped');
      if (rule.maxRowsPerRun !== undefined)
        problem(
          'maxRowsPerRun',
          '"maxRowsPerRun" cannot be used with "partitions": whole partitions are dropped',
        );
    } else {
      if (rule.column === undefined)
        problem('column', '"column" is required: the timestamp or date column that ages the rows');
      if (rule.premake !== undefined) problem('premake', '"premake" needs "partitions": true');
    }
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
  minSize: size().default(REINDEX_MIN_SIZE),
  minBloat: percent().default(REINDEX_MIN_BLOAT),
  maxPerRun: positiveInt('a whole number of indexes').default(5),
  vacuumAnalyze: z.boolean().default(false),
  /** A transaction open longer than this makes a concurrent rebuild wait; skip the index instead. */
  maxTransactionAge: interval().default('5 minutes'),
});

const thresholdValue = z.union([z.string(), z.number()], {
  error: 'expected a threshold like "5 minutes", "80%", "5 GB" or a number',
});

const checkThresholds = z.strictObject({
  warning: thresholdValue.nullable().optional(),
  critical: thresholdValue.nullable().optional(),
  /** Size floor of the bloat and unused-index checks (index_bloat: the reindex job's minSize). */
  minSize: size().optional(),
  /** replication_slots: how long a slot may stay inactive before it warns. */
  inactiveFor: interval().optional(),
});

export const healthSection = z.strictObject({
  schedule: schedule().optional(),
  /**
   * Per-check overrides, checked against the checks' own units here, so an unknown check or a
   * threshold without a unit fails `validate` and synth rather than every scheduled run.
   */
  thresholds: z
    .record(z.string(), checkThresholds)
    .superRefine((thresholds, ctx) => {
      for (const issue of thresholdIssues(HEALTH_CHECKS, thresholds))
        ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    })
    .default({}),
});

export const restoreSection = z.strictObject({
  /** Scheduled restore drill: restore the latest backup into a scratch database and compare. */
  drillSchedule: schedule().optional(),
});
