import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { sdk } from './aws';
import { CONFIG_PREFIX } from './config/deployed';
import { formatIssues } from './config/issues';
import { JOBS, type JobName } from './config/schema';
import { ConfigError, errorMessage } from './errors';
import { type FargateSettings, fargateSettingsFromEnv } from './fargate-handoff';

/**
 * Where the stack writes its Fargate settings, beside the config objects, so that the CLI
 * (`--on fargate`) can start a job's task knowing only the backup bucket: the same facts FARGATE_ENV
 * gives each function.
 */
export const FARGATE_SETTINGS_KEY = `${CONFIG_PREFIX}fargate.json`;

/** `.pgmaint/config/fargate.json`, as lib/ writes it. Built when read: only `--on fargate` reads it. */
const fargateSettingsSchema = () =>
  z.object({
    formatVersion: z.literal(1),
    /** ARN of the cluster. */
    cluster: z.string().min(1),
    subnets: z.array(z.string().min(1)).min(1),
    securityGroups: z.array(z.string().min(1)).default([]),
    assignPublicIp: z.enum(['ENABLED', 'DISABLED']).default('DISABLED'),
    /** Per job that has a task: its task definition's ARN and its container's name. */
    tasks: z.partialRecord(
      z.enum(JOBS),
      z.object({
        taskDefinition: z.string().min(1),
        container: z.string().min(1),
        /** The job's own security groups (each job's function has its own unless the config names some). */
        securityGroups: z.array(z.string().min(1)).optional(),
      }),
    ),
  });
export type FargateSettingsObject = z.input<ReturnType<typeof fargateSettingsSchema>>;

/** One job's settings from the object's text; a ConfigError naming what is wrong. */
export function parseFargateSettings(text: string, source: string, job: JobName): FargateSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      [`${source} is not valid JSON: ${errorMessage(error)}`],
      'invalid Fargate settings',
    );
  }
  const parsed = fargateSettingsSchema().safeParse(json);
  if (!parsed.success)
    throw new ConfigError(
      formatIssues(parsed.error.issues).map((p) => `${source}: ${p}`),
      'invalid Fargate settings',
    );
  const task = parsed.data.tasks[job];
  if (!task)
    throw new ConfigError(
      [
        `${source} has no task for ${job} (tasks: ${Object.keys(parsed.data.tasks).join(', ') || 'none'}); deploy the stack with Fargate enabled for it`,
      ],
      'no Fargate task',
    );
  const { cluster, subnets, assignPublicIp } = parsed.data;
  const securityGroups = task.securityGroups ?? parsed.data.securityGroups;
  return {
    cluster,
    subnets,
    securityGroups,
    assignPublicIp,
    taskDefinition: task.taskDefinition,
    container: task.container,
  };
}

/**
 * The settings to start `job`'s task with, from outside the stack: FARGATE_ENV when all of it is
 * set (inside a function, or set by hand), else the object the stack wrote in the backup bucket.
 */
export async function loadFargateSettings(
  job: JobName,
  backupBucket: string | undefined,
  env: NodeJS.ProcessEnv,
  s3: () => S3Client,
): Promise<FargateSettings> {
  const fromEnv = fargateSettingsFromEnv(env);
  if ('settings' in fromEnv) return fromEnv.settings;
  if (!backupBucket || !/^[a-z0-9][a-z0-9.-]+$/.test(backupBucket))
    throw new ConfigError(
      [
        `backupBucket: "${backupBucket ?? ''}" is not an S3 bucket: --on fargate reads the stack's Fargate settings from s3://<backupBucket>/${FARGATE_SETTINGS_KEY}; ` +
          "set backupBucket to the deployed stack's bucket",
      ],
      'cannot find the Fargate task',
    );
  const source = `s3://${backupBucket}/${FARGATE_SETTINGS_KEY}`;
  let text: string;
  try {
    const object = await s3().send(
      new (sdk.s3().GetObjectCommand)({ Bucket: backupBucket, Key: FARGATE_SETTINGS_KEY }),
    );
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    throw new ConfigError(
      [`cannot read ${source}: ${errorMessage(error)} (was the stack deployed with Fargate tasks?)`],
      'cannot find the Fargate task',
    );
  }
  return parseFargateSettings(text, source, job);
}
