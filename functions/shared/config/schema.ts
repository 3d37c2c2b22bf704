import * as z from 'zod';
import { JOB_MANIFESTS } from '../../manifests';
import { SSL_MODES } from '../credentials';
import { targetSizeProblems } from '../fargate-task';
import { timezoneProblem } from '../timezone';
import { databaseFields, databaseIssues } from './databases';
import {
  backupSection,
  healthSection,
  reindexSection,
  reportSection,
  restoreSection,
  retentionSection,
} from './sections';

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
    /**
     * Overrides the secret's or URL's sslmode. Default: `verify-full` for RDS hosts
     * (`*.rds.amazonaws.com`, checked against the RDS CA bundle in the image), else `prefer`.
     */
    sslmode: z.enum(SSL_MODES, { error: `expected one of ${SSL_MODES.join(', ')}` }).optional(),
    /** dbname (another database, same credentials), or databases + exclude (several): databases.ts. */
    ...databaseFields,
    /** IANA Area/Location name (or "UTC") the schedules run in; abbreviations are refused. */
    timezone: z
      .string({ error: 'expected an IANA time zone like "Europe/London"' })
      .superRefine((name, ctx) => {
        const problem = timezoneProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default('UTC'),
    backup: backupSection.optional(),
    retention: retentionSection.optional(),
    reindex: reindexSection.optional(),
    health: healthSection.optional(),
    restore: restoreSection.optional(),
    report: reportSection.optional(),
    /**
     * Deployed only: the stack creates the secret named by `secret` (generated password, rotated
     * every 90 days by the hosted PostgreSQL single-user rotation) instead of importing it.
     */
    manageSecret: z
      .strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(5432),
        dbname: z.string().min(1),
        username: z.string().min(1).default('pgmaint'),
        rotationDays: z.number().int().min(1).max(365).default(90),
      })
      .optional(),
  })
  .superRefine((target, ctx) => {
    if ((target.secret === undefined) === (target.url === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of "secret" (deployed) or "url" (local runs)',
      });
    }
    for (const issue of databaseIssues(target)) ctx.addIssue({ code: 'custom', ...issue });
    for (const { path, message } of targetSizeProblems(target, Object.values(JOB_MANIFESTS)))
      ctx.addIssue({ code: 'custom', path: [...path], message });
    const lock = target.backup?.objectLock;
    if (lock && lock.days < (target.backup?.retentionDays ?? 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'objectLock', 'days'],
        message: `${lock.days} is shorter than retentionDays (${target.backup?.retentionDays}): a backup must stay locked as long as it is kept; raise objectLock.days or lower retentionDays`,
      });
    }
  });

/** Deployed only: where the functions run when the databases are not publicly reachable. */
const networkSchema = z
  .strictObject({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, { error: 'expected a VPC id like vpc-0abc123' }),
    availabilityZones: z.array(z.string().min(1)).min(1),
    privateSubnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, { error: 'expected a subnet id' }))
      .min(1),
    /** Security groups allowed into the databases; default: one new group per function. */
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]+$/, { error: 'expected a security group id' }))
      .optional(),
    /** The VPC's CIDR: interface endpoints accept HTTPS from it. */
    vpcCidrBlock: z
      .string()
      .regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, { error: 'expected a CIDR like 10.0.0.0/16' })
      .optional(),
    /** The private subnets' route tables: the S3 gateway endpoint is added to them. */
    privateSubnetRouteTableIds: z
      .array(z.string().regex(/^rtb-[0-9a-f]+$/, { error: 'expected a route table id' }))
      .optional(),
    /** Create the S3 gateway and Secrets Manager / SNS interface endpoints private subnets need. */
    createEndpoints: z.boolean().default(false),
    /**
     * Fargate tasks get a public IP: only for subnets that reach AWS through an internet gateway
     * (no NAT, no endpoints). Lambda functions never get one. Default: no public IP.
     */
    assignPublicIp: z.boolean().default(false),
  })
  .superRefine((network, ctx) => {
    if (network.createEndpoints && !network.vpcCidrBlock)
      ctx.addIssue({
        code: 'custom',
        path: ['vpcCidrBlock'],
        message: "createEndpoints needs the VPC CIDR for the interface endpoints' security group",
      });
    if (network.createEndpoints && !network.privateSubnetRouteTableIds?.length)
      ctx.addIssue({
        code: 'custom',
        path: ['privateSubnetRouteTableIds'],
        message: "createEndpoints needs the private subnets' route table ids for the S3 gateway endpoint",
      });
  });

const kmsKeyArn = () =>
  z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, {
    error: 'expected a KMS key ARN like arn:aws:kms:eu-west-2:123456789012:key/1234abcd-... (not an alias)',
  });

/** AWS tag rules; `aws:` is AWS's own prefix and `pgmaint:` is the stack's. */
const tagsSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, { error: 'tag keys use letters, digits, spaces and _.:/=+-@' })
      .refine((key) => !/^(aws|pgmaint):/i.test(key), {
        error: 'tag keys starting with "aws:" or "pgmaint:" are reserved',
      }),
    z
      .string({ error: 'expected a tag value (text)' })
      .max(256)
      .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, {
        error: 'tag values use letters, digits, spaces and _.:/=+-@',
      }),
  )
  .refine((tags) => Object.keys(tags).length <= 40, { error: 'at most 40 tags (pgmaint adds up to 3 more)' });

export const configSchema = z.strictObject({
  network: networkSchema.optional(),
  /** Deployed only: the functions' processor; arm64 (Graviton) costs about 20% less per second. */
  architecture: z.enum(['x86_64', 'arm64'], { error: 'expected "x86_64" or "arm64"' }).optional(),
  /** Deployed only: tags on every resource the stack creates, beside pgmaint's own. */
  tags: tagsSchema.optional(),
  /** Deployed only: the KMS key of an existing `backupBucket`, so the functions may use it. */
  backupBucketKeyArn: kmsKeyArn().optional(),
  alerts: z
    .strictObject({
      topicArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, {
          error: 'expected an SNS topic ARN',
        })
        .optional(),
      emails: z.array(z.email({ error: 'expected an email address' })).default([]),
      /** Deployed only: the KMS key of an existing `topicArn`, so the functions may publish. */
      topicKeyArn: kmsKeyArn().optional(),
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
export type ReportConfig = z.output<typeof reportSection>;
export const JOBS = ['backup', 'restore', 'retention', 'reindex', 'health', 'report'] as const;
export type JobName = (typeof JOBS)[number];
