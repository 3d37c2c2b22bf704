import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { type AlertSink, publishSafely } from './alerts';
import { formatIssues } from './config/issues';
import type { PgmaintConfig } from './config/schema';
import { type ConnectionSettings, resolveConnection, type SecretReader } from './credentials';
import { connect } from './db';
import {
  ConfigError,
  errorMessage,
  InputError,
  JobError,
  JobFailedError,
  PgmaintError,
  RequestRefusedError,
} from './errors';
import type { Placement } from './fargate-handoff';
import type { HandedOffResult } from './handed-off';
import type { JobContext, JobDefinition, JobResult } from './job';
import type { Logger } from './logger';
import type { MetricsSink } from './metrics';
import { noProgress, type Progress } from './progress';
import { scrub } from './secrets-scrub';
import { neverStopped } from './stop-signals';
import { type ObjectStore, openStore } from './store';
import { removeStaleTempDirs } from './temp-dirs';

/** What a runner needs from the outside world; the Lambda handler and the CLI each build one. */
export interface RunnerDeps {
  readonly config: PgmaintConfig;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  readonly alerts: AlertSink;
  readonly readSecret: SecretReader;
  readonly s3: () => S3Client;
  readonly now?: () => Date;
  readonly remainingMs?: () => number;
  readonly runId?: string;
  /** See JobContext.signal; default: never aborted. */
  readonly signal?: AbortSignal;
  /** A progress reporter for one run; default: none. */
  readonly progress?: (job: string, target: string) => Progress;
  /**
   * Who tells a human that a run failed. "publish" (the CLI, a handler outside the stack): this
   * runner, once per run. "destination" (a deployed function Lambda retries): Lambda's on-failure
   * destination, once after the last attempt, so a try that a retry repairs pages nobody.
   * @default "publish"
   */
  readonly failureAlerts?: 'publish' | 'destination';
}

const targetField = z.object({
  target: z.string({ error: 'expected the name of a target in the config' }).min(1),
});

/** Splits `{ target, ...options }` and validates both, reporting every problem at once. */
export function parseJobInput<Options>(
  definition: JobDefinition<Options, JobResult>,
  input: unknown,
  config: PgmaintConfig,
): { targetName: string; options: Options } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InputError([`expected an object like { "target": "prod" }, got ${JSON.stringify(input)}`]);
  }
  const { target, ...rest } = input as Record<string, unknown>;
  const problems: string[] = [];
  const parsedTarget = targetField.safeParse({ target });
  if (!parsedTarget.success) problems.push(...formatIssues(parsedTarget.error.issues));
  else if (!(parsedTarget.data.target in config.targets)) {
    problems.push(
      `target: "${parsedTarget.data.target}" is not in the config (known: ${Object.keys(config.targets).join(', ')})`,
    );
  }
  const parsedOptions = definition.options.safeParse(rest);
  if (!parsedOptions.success) problems.push(...formatIssues(parsedOptions.error.issues));
  if (problems.length > 0 || !parsedTarget.success || !parsedOptions.success) throw new InputError(problems);
  return { targetName: parsedTarget.data.target, options: parsedOptions.data };
}

/**
 * Runs one job for one target: validate, run the core, and on failure publish exactly one alert
 * and rethrow, so the Lambda errors (CloudWatch alarms fire) and the CLI exits non-zero. A
 * refused request (RequestRefusedError) is rethrown without an alert: nothing was tried.
 */
export async function runJob<Options, Result extends JobResult>(
  definition: JobDefinition<Options, Result>,
  input: unknown,
  deps: RunnerDeps,
): Promise<Result>;
/**
 * With a placement (the Lambda's hand-off to Fargate, the CLI's `--on fargate`), asked before the
 * core starts: a run it hands off returns its HandedOffResult, counted as neither a success nor a failure.
 */
export async function runJob<Options, Result extends JobResult>(
  definition: JobDefinition<Options, Result>,
  input: unknown,
  deps: RunnerDeps,
  placement: Placement,
): Promise<Result | HandedOffResult>;
export async function runJob<Options, Result extends JobResult>(
  definition: JobDefinition<Options, Result>,
  input: unknown,
  deps: RunnerDeps,
  placement?: Placement,
): Promise<Result | HandedOffResult> {
  const { targetName, options } = parseJobInput(definition, input, deps.config);
  const context = createContext(definition.name, targetName, deps);
  const started = Date.now();
  const dimensions = { job: definition.name, target: targetName };
  deps.logger.info(`${definition.name} ${targetName}: starting`, { runId: context.runId });
  let result: Result | undefined;
  try {
    context.signal.throwIfAborted();
    await removeLeftovers(deps.logger, context.runId);
    const handedOff = await placement?.(context, options, input as Record<string, unknown>);
    if (handedOff) {
      deps.metrics.add('JobHandedOff', 'Count', 1, dimensions);
      deps.logger.info(`${definition.name} ${targetName}: handed off to Fargate task ${handedOff.taskArn}`, {
        runId: context.runId,
        reason: handedOff.reason,
      });
      return handedOff;
    }
    result = await definition.run(context, options);
    if (definition.failed?.(result)) {
      throw new JobFailedError(`${definition.name} ${targetName}: ${result.status}`, result);
    }
    deps.metrics.add('JobSucceeded', 'Count', 1, dimensions);
    deps.logger.info(`${definition.name} ${targetName}: ${result.status}`, { runId: context.runId });
    return result;
  } catch (error) {
    const message = scrub(errorMessage(error));
    if (error instanceof RequestRefusedError || error instanceof InputError) {
      // Not a failure: the caller shows the one message (CLI) or the invocation error carries it.
      deps.metrics.add('JobRefused', 'Count', 1, dimensions);
      deps.logger.debug(`${definition.name} ${targetName} refused: ${message}`, { runId: context.runId });
      throw error;
    }
    deps.metrics.add('JobFailed', 'Count', 1, dimensions);
    deps.logger.error(`${definition.name} ${targetName} failed: ${message}`, {
      runId: context.runId,
      error: (error as Error).name,
    });
    if (deps.failureAlerts === 'destination')
      deps.logger.info(
        `${definition.name} ${targetName}: the failure alert is sent once Lambda has no retry left`,
        { runId: context.runId },
      );
    else if (definition.alertOnFailure !== false)
      await publishSafely(
        deps.alerts,
        {
          job: definition.name,
          target: targetName,
          status: 'FAILED',
          runId: context.runId,
          error: message,
          result: error instanceof JobFailedError ? error.result : result,
        },
        deps.logger,
      );
    throw error instanceof PgmaintError ? error : new JobError(message, { cause: error });
  } finally {
    context.progress.stop();
    deps.metrics.add('DurationMs', 'Milliseconds', Date.now() - started, dimensions);
    deps.metrics.flush();
  }
}

/**
 * Before anything measures free disk (the hand-off's estimate, a backup's dump jobs, a restore's
 * download): scratch directories of runs killed outright go. Never a reason to fail the run.
 */
async function removeLeftovers(logger: Logger, runId: string): Promise<void> {
  try {
    const removed = await removeStaleTempDirs();
    if (removed.length > 0)
      logger.info(
        `removed ${removed.length} scratch ${removed.length === 1 ? 'directory' : 'directories'} left by pgmaint runs that were killed`,
        {
          runId,
          removed,
        },
      );
  } catch (error) {
    logger.warn(`could not remove the scratch directories of killed runs: ${errorMessage(error)}`, { runId });
  }
}

export function createContext(job: string, targetName: string, deps: RunnerDeps): JobContext {
  const target = deps.config.targets[targetName];
  if (!target) throw new InputError([`target: "${targetName}" is not in the config`]);
  const connections = new Map<string, Promise<ConnectionSettings>>();
  const connection = (name = targetName) => {
    const other = deps.config.targets[name];
    if (!other) return Promise.reject(new InputError([`target "${name}" is not in the config`]));
    let settings = connections.get(name);
    if (!settings) {
      settings = resolveConnection(other, deps.readSecret);
      connections.set(name, settings);
    }
    return settings;
  };
  let store: ObjectStore | undefined;
  return {
    job,
    targetName,
    target,
    config: deps.config,
    runId: deps.runId ?? randomUUID(),
    logger: deps.logger,
    metrics: deps.metrics,
    alerts: deps.alerts,
    now: deps.now ?? (() => new Date()),
    remainingMs: deps.remainingMs ?? (() => Number.POSITIVE_INFINITY),
    signal: deps.signal ?? neverStopped,
    progress: deps.progress?.(job, targetName) ?? noProgress,
    connection,
    connect: async (options = {}) => connect(await connection(), { job, ...options }),
    store: () => {
      if (!deps.config.backupBucket) {
        throw new ConfigError([
          'backupBucket: not set (an S3 bucket name, or file:///abs/path for local runs)',
        ]);
      }
      store ??= openStore(deps.config.backupBucket, deps.s3);
      return store;
    },
  };
}
