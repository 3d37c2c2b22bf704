import * as z from 'zod';
import { excludePatternProblem, type PatternKind } from '../../backup/exclude-patterns';
import { HEALTH_CHECKS } from '../../health/checks';
import { thresholdIssues } from '../../health/thresholds';
import { identifierProblem, qualifiedNameProblem } from '../pg/sql-names';
import { REINDEX_MIN_BLOAT, REINDEX_MIN_SIZE } from './defaults';
import { interval, lazySection, nonNegativeInt, percent, positiveInt, schedule, size } from './fields';
import { placementFields } from './placement';

/**
 * One schema per job section of a target. Each job's issue owns its section; the shapes here
 * are the contract between the config, the CLI and the Lambda events.
 */

const JOBS_ERROR = 'expected "auto" or a whole number of parallel jobs from 1 to 64';

/** pg_dump exclude patterns, each checked here so a bad one fails `validate`, not the nightly run. */
const dumpPatterns = (kind: PatternKind) =>
  z
    .array(
      z
        .string({
          error: `expected a ${kind} pattern like ${kind === 'schema' ? '"scratch"' : '"audit_log*"'}`,
        })
        .superRefine((pattern, ctx) => {
          const problem = excludePatternProblem(pattern, kind);
          if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(pattern)}: ${problem}` });
        }),
      { error: `expected a list of ${kind} patterns` },
    )
    .default([]);

export const backupSection = lazySection(() =>
  z.strictObject({
    /** EventBridge Scheduler expression; absent = the function exists but runs only on demand. */
    schedule: schedule().optional(),
    ...placementFields(),
    retentionDays: positiveInt('a whole number of days, at least 1').default(30),
    keepAtLeast: positiveInt('a whole number of backups, at least 1').default(3),
    /** Grandfather-father-son: the first backup of each of the last N days, ISO weeks, months, years. */
    keepDaily: nonNegativeInt('a whole number of days').optional(),
    keepWeekly: nonNegativeInt('a whole number of weeks').optional(),
    keepMonthly: nonNegativeInt('a whole number of months').optional(),
    keepYearly: nonNegativeInt('a whole number of years').optional(),
    /**
     * S3 Object Lock: every object of a backup is locked for `days` from its start, so nobody (not
     * pgmaint, not a leaked key) can delete or overwrite it before then. Needs a bucket with Object
     * Lock enabled (the stack creates one; an existing bucket is checked).
     */
    objectLock: z
      .strictObject({
        mode: z.enum(['GOVERNANCE', 'COMPLIANCE'], { error: 'expected "GOVERNANCE" or "COMPLIANCE"' }),
        days: positiveInt('a whole number of days, at least 1'),
      })
      .optional(),
    /**
     * Off-site copies: after a backup is verified, the backup job copies it to each bucket, checks
     * the copy's sha256 there, and records the verified copy in the manifest.
     */
    copies: z
      .array(
        z.strictObject({
          bucket: z
            .string()
            .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name' }),
          region: z
            .string()
            .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region like "eu-west-1"' }),
          /** The account that owns the bucket; every call checks it (ExpectedBucketOwner). */
          account: z
            .string()
            .regex(/^\d{12}$/, { error: 'expected a 12-digit AWS account id' })
            .optional(),
          /** Encrypt the copies with this KMS key (its ARN); default: the bucket's own encryption. */
          kmsKey: z
            .string()
            .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/, {
              error: 'expected a KMS key ARN',
            })
            .optional(),
        }),
      )
      .refine((copies) => new Set(copies.map((c) => c.region)).size === copies.length, {
        error: 'one copy per region: restore picks a copy by its region',
      })
      .optional(),
    /** Exact row counts in the dump's snapshot, for restore drills; "auto" = below 10 GB. */
    countRows: z
      .union([z.boolean(), z.literal('auto')], { error: 'expected true, false or "auto"' })
      .default('auto'),
    /**
     * Parallel dump jobs: above 1, pg_dump --format=directory --jobs N to local disk, every file
     * uploaded as it completes; 1 = one custom-format stream, nothing on disk. "auto" = the
     * machine's vCPUs when it has more than one, the database is 1 GiB or more and the temp disk
     * has room for it; one stream otherwise.
     */
    jobs: z
      .union(
        [
          z.literal('auto'),
          z.number().int({ error: JOBS_ERROR }).min(1, { error: JOBS_ERROR }).max(64, { error: JOBS_ERROR }),
        ],
        { error: JOBS_ERROR },
      )
      .default('auto'),
    /** pg_dump --exclude-schema patterns: these schemas and everything in them are not backed up. */
    excludeSchemas: dumpPatterns('schema'),
    /** pg_dump --exclude-table patterns (`table` or `schema.table`, `*` and `?` wildcards). */
    excludeTables: dumpPatterns('table'),
    /** pg_dump --exclude-table-data patterns: the tables are backed up, their rows are not. */
    excludeTableData: dumpPatterns('table'),
  }),
);

const whereValue = () =>
  z.union([z.string(), z.number(), z.boolean(), z.null()], {
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

const buildRetentionRule = () =>
  z
    .strictObject({
      table: sqlName('table'),
      column: sqlName('column').optional(),
      olderThan: interval(),
      where: z.record(sqlName('column'), z.union([whereValue(), z.array(whereValue()).min(1)])).optional(),
      partitions: z.boolean().optional(),
      /** A TimescaleDB hypertable: whole chunks are dropped (detected when absent). */
      hypertable: z.boolean({ error: 'expected true or false' }).optional(),
      premake: nonNegativeInt('a whole number of partitions').optional(),
      maxRowsPerRun: positiveInt('a whole number of rows').optional(),
    })
    .superRefine((rule, ctx) => {
      const problem = (path: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [path], message });
      if (rule.hypertable === true) {
        for (const field of hypertableConflicts(rule))
          problem(field, `"${field}" cannot be used with "hypertable": true: whole chunks are dropped`);
      } else if (rule.partitions === true) {
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

/** One retention rule, checked on its own (as `retention.rules` checks each). */
export const retentionRule = lazySection(buildRetentionRule);

/** Fields a hypertable rule refuses: chunks are dropped whole, and premaking is TimescaleDB's own. */
function hypertableConflicts(rule: {
  partitions?: boolean;
  where?: unknown;
  maxRowsPerRun?: number;
  premake?: number;
}) {
  const fields: Array<'partitions' | 'where' | 'maxRowsPerRun' | 'premake'> = [];
  if (rule.partitions !== undefined) fields.push('partitions');
  if (rule.where !== undefined) fields.push('where');
  if (rule.maxRowsPerRun !== undefined) fields.push('maxRowsPerRun');
  if (rule.premake !== undefined) fields.push('premake');
  return fields;
}

/** A pause ten times the batch's time leaves the cleanup a tenth of its speed; more is a mistake. */
export const MAX_PAUSE_PERCENT = 1000;

export const retentionSection = lazySection(() =>
  z.strictObject({
    schedule: schedule().optional(),
    ...placementFields(),
    rules: z.array(buildRetentionRule()).default([]),
    /** Share of a table's rows deleted above which it is vacuumed. */
    vacuumAbove: percent().default('10%'),
    /**
     * After each batch, a pause of this share of the batch's own time: a server with no core to spare
     * keeps that much of it for the application, and the cleanup takes as much longer.
     */
    pauseAfterBatch: percent(MAX_PAUSE_PERCENT).default('0%'),
  }),
);

export const reindexSection = lazySection(() =>
  z.strictObject({
    schedule: schedule().optional(),
    ...placementFields(),
    mode: z
      .enum(['concurrently', 'database'], { error: 'expected "concurrently" or "database"' })
      .default('concurrently'),
    minSize: size().default(REINDEX_MIN_SIZE),
    minBloat: percent().default(REINDEX_MIN_BLOAT),
    maxPerRun: positiveInt('a whole number of indexes').default(5),
    vacuumAnalyze: z.boolean().default(false),
    /** A transaction open longer than this makes a concurrent rebuild wait; skip the index instead. */
    maxTransactionAge: interval().default('5 minutes'),
  }),
);

const thresholdValue = () =>
  z.union([z.string(), z.number()], {
    error: 'expected a threshold like "5 minutes", "80%", "5 GB" or a number',
  });

const checkThresholds = () =>
  z.strictObject({
    warning: thresholdValue().nullable().optional(),
    critical: thresholdValue().nullable().optional(),
    /** Size floor of the bloat and unused-index checks (index_bloat: the reindex job's minSize). */
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
  });

export const healthSection = lazySection(() =>
  z.strictObject({
    schedule: schedule().optional(),
    ...placementFields(),
    /**
     * Publish each check's value and status as CloudWatch metrics (the dashboard's health panels).
     * They are most of a deployment's monthly cost; false keeps only the alerts and the result.
     */
    metrics: z.boolean({ error: 'expected true or false' }).optional(),
    /**
     * Per-check overrides, checked against the checks' own units here, so an unknown check or a
     * threshold without a unit fails `validate` and synth rather than every scheduled run.
     */
    thresholds: z
      .record(z.string(), checkThresholds())
      .superRefine((thresholds, ctx) => {
        for (const issue of thresholdIssues(HEALTH_CHECKS, thresholds))
          ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
      })
      .default({}),
  }),
);

/**
 * Scheduled restore drills: restore a verified backup into a scratch database, check it, drop it,
 * and time it against the recovery time objective.
 */
const drillSection = () =>
  z.strictObject({
    /** EventBridge Scheduler expression; absent = drills run only on demand (`restore --drill`). */
    schedule: schedule().optional(),
    /** Recovery time objective: a drill slower than this, from start to a checked database, alerts. */
    rto: interval().optional(),
    /** "latest": the newest verified backup; "random": any verified backup retention keeps. */
    pick: z.enum(['latest', 'random'], { error: 'expected "latest" or "random"' }).default('latest'),
  });

/** The report (`pgmaint report`): optionally published to the alert topic on a schedule. */
export const reportSection = lazySection(() =>
  z.strictObject({
    /** EventBridge Scheduler expression of the published report, e.g. weekly "cron(0 8 ? * MON *)". */
    schedule: schedule().optional(),
    ...placementFields(),
  }),
);

export const restoreSection = lazySection(() =>
  z.strictObject({
    /**
     * Replaced by `drill.schedule`; refused with the line to write instead, so an upgrade never
     * silently stops scheduled drills (one spelling for one setting, none kept for compatibility).
     */
    drillSchedule: z
      .unknown()
      .superRefine((value, ctx) => {
        if (value !== undefined)
          ctx.addIssue({
            code: 'custom',
            message: `replaced by restore.drill.schedule: write "drill": { "schedule": ${JSON.stringify(value)} } instead (add "rto" to time each drill against your recovery time objective)`,
          });
      })
      .optional(),
    drill: drillSection().optional(),
    ...placementFields(),
    /**
     * The role that owns everything a restore creates when roles the backup's objects and grants
     * belong to do not exist on this server (a refresh from another server). Without it such a
     * restore is refused. The backup's grants are then not restored.
     */
    owner: z
      .string({ error: 'expected a role name' })
      .min(1)
      .refine((name) => Buffer.byteLength(name, 'utf8') <= 63, { error: 'a role name has at most 63 bytes' })
      .optional(),
  }),
);
