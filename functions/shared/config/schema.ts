import { z } from 'zod';
import { isValidTimezone } from '../schedule';
import { backupSection, healthSection, reindexSection, restoreSection, retentionSection } from './sections';

export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

const targetSchema = z
  .strictObject({
    /** Secrets Manager secret id or ARN holding the RDS secret JSON. */
    secret: z.string().min(1).optional(),
    /** Local runs only (CLI, demo): a postgres:// URL instead of a secret. */
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// URL' })
      .optional(),
    timezone: z
      .string()
      .refine(isValidTimezone, { error: 'expected an IANA time zone like "Europe/London"' })
      .default('UTC'),
    backup: backupSection.optional(),
    retention: retentionSection.optional(),
    reindex: reindexSection.optional(),
    health: healthSection.optional(),
    restore: restoreSection.optional(),
  })
  .superRefine((target, ctx) => {
    if ((target.secret === undefined) === (target.url === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of "secret" (deployed) or "url" (local runs)',
      });
    }
  });

export const configSchema = z.strictObject({
  alerts: z
    .strictObject({
      topicArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, {
          error: 'expected an SNS topic ARN',
        })
        .optional(),
      emails: z.array(z.email({ error: 'expected an email address' })).default([]),
    })
    .default({ emails: [] }),
  /** S3 bucket name, or file:///abs/path for local runs. Deployed and absent: the stack creates one. */
  backupBucket: z
    .string()
    .regex(/^(file:\/\/\/.+|[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/, {
      error: 'expected an S3 bucket name or file:///absolute/path',
    })
    .optional(),
  targets: z
    .record(
      z.string().regex(TARGET_NAME, { error: 'target names use letters, digits, "-" and "_" (at most 40)' }),
      targetSchema,
    )
    .refine((targets) => Object.keys(targets).length > 0, { error: 'define at least one target' }),
});

export type PgmaintConfig = z.output<typeof configSchema>;
export type TargetConfig = PgmaintConfig['targets'][string];
export type BackupConfig = z.output<typeof backupSection>;
export type RetentionConfig = z.output<typeof retentionSection>;
export type RetentionRuleConfig = RetentionConfig['rules'][number];
export type ReindexConfig = z.output<typeof reindexSection>;
export type HealthConfig = z.output<typeof healthSection>;
export type RestoreConfig = z.output<typeof restoreSection>;
export const JOBS = ['backup', 'restore', 'retention', 'reindex', 'health'] as const;
export type JobName = (typeof JOBS)[number];
