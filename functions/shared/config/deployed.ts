import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { sdk } from '../aws';
import { optionalEnv } from '../env';
import { ConfigError, errorMessage } from '../errors';
import { parseConfig } from './load';
import type { PgmaintConfig } from './schema';

/**
 * Where a deployed function or task finds its config. The stack writes each job's slice of the
 * config to an S3 object in the backup bucket (under `.pgmaint/config/`, a prefix no target name
 * can take) and points every function and task at it with these variables. S3 because a fleet's
 * config outgrows every other home: Lambda's environment stops at 4 KB and an SSM parameter at
 * 4 KB (8 KB advanced), while an object has no practical limit, the functions already reach the
 * bucket, and `cdk deploy` writes it with the rest of the stack.
 */
export const CONFIG_OBJECT_ENV = 'PGMAINT_CONFIG_S3';
/** SHA-256 of the object the stack wrote: a warm container never runs with another one. */
export const CONFIG_SHA256_ENV = 'PGMAINT_CONFIG_SHA256';
/** Inline JSON: local runs and tests (too small for a fleet when deployed). */
export const INLINE_CONFIG_ENV = 'PGMAINT_CONFIG';

/** The prefix of the config objects in the backup bucket. */
export const CONFIG_PREFIX = '.pgmaint/config/';

export function configObjectKey(job: string): string {
  return `${CONFIG_PREFIX}${job}.json`;
}

export function configSha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads the raw config JSON from the S3 object the environment points at, or the inline variable. */
export async function readDeployedConfigText(
  env: NodeJS.ProcessEnv,
  s3: () => S3Client,
): Promise<{ text: string; source: string }> {
  const pointer = optionalEnv(CONFIG_OBJECT_ENV, env);
  if (!pointer) {
    const inline = optionalEnv(INLINE_CONFIG_ENV, env);
    if (inline) return { text: inline, source: INLINE_CONFIG_ENV };
    throw new ConfigError(
      [
        `set ${CONFIG_OBJECT_ENV} to s3://bucket/key of the config (the stack does), or ${INLINE_CONFIG_ENV} to its JSON`,
      ],
      'no config',
    );
  }
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(pointer);
  if (!match?.[1] || !match[2])
    throw new ConfigError([`${CONFIG_OBJECT_ENV}: expected s3://bucket/key, got "${pointer}"`], 'no config');
  const [, bucket, key] = match;
  let text: string;
  try {
    const object = await s3().send(new (sdk.s3().GetObjectCommand)({ Bucket: bucket, Key: key }));
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    throw new ConfigError(
      [`cannot read ${pointer}: ${errorMessage(error)} (was the stack deployed, and may this role read it?)`],
      'config not found',
    );
  }
  const expected = optionalEnv(CONFIG_SHA256_ENV, env);
  if (expected && configSha256(text) !== expected)
    throw new ConfigError(
      [
        `${pointer} is not the config this deployment wrote (SHA-256 differs); redeploy the stack rather than editing the object`,
      ],
      'config changed outside the deployment',
    );
  return { text, source: pointer };
}

/** The parsed JSON of a config text, a ConfigError naming its source when it is not JSON. */
export function parseConfigJson(text: string, source: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([`${source} is not valid JSON: ${errorMessage(error)}`], 'config is invalid');
  }
}

/**
 * The config a function or task runs with: the slice of the pgmaint config this job needs (the
 * object the stack wrote, above), with the bucket and topic the stack created (or imported) from
 * the environment beside it.
 */
export function withDeployedResources(
  slice: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const bucket = optionalEnv('PGMAINT_BACKUP_BUCKET', env);
  const topicArn = optionalEnv('PGMAINT_ALERT_TOPIC_ARN', env);
  return {
    ...slice,
    ...(bucket ? { backupBucket: bucket } : {}),
    ...(topicArn ? { alerts: { ...(slice.alerts as object | undefined), topicArn } } : {}),
  };
}

/** Reads and validates the deployed config (every problem at once), as a function or task runs with it. */
export async function loadDeployedConfig(env: NodeJS.ProcessEnv, s3: () => S3Client): Promise<PgmaintConfig> {
  const { text, source } = await readDeployedConfigText(env, s3);
  return parseConfig(withDeployedResources(parseConfigJson(text, source), env), source);
}
