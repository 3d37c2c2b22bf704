import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { ECSClient, RunTaskCommandOutput } from '@aws-sdk/client-ecs';
import { JOB_MANIFESTS } from '../manifests';
import { sdk } from './aws';
import type { RunOn } from './config/placement';
import { JOBS, type JobName } from './config/schema';
import { ConfigError, errorMessage, InputError, JobError } from './errors';
import {
  FARGATE_ENV,
  type FargateSettings,
  jobPlacement,
  runTaskRequest,
  type TaskSize,
  taskSizeProblem,
} from './fargate-task';
import type { HandedOffResult } from './handed-off';
import type { JobContext, RunEstimate } from './job';
import { formatBytes, formatDuration } from './units';

/**
 * Decides, before a job's core starts, whether this run goes elsewhere; undefined = run here.
 * `input` is the event as received, passed on whole to the task.
 */
export type Placement = (
  context: JobContext,
  options: unknown,
  input: Readonly<Record<string, unknown>>,
) => Promise<HandedOffResult | undefined>;

export type { FargateSettings } from './fargate-task';

/** The ECS client the hand-off starts tasks with (default credentials, region and AWS_ENDPOINT_URL). */
export function ecsClient(): ECSClient {
  return new (sdk.ecs().ECSClient)({});
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * The Fargate settings the deployment gave this function (FARGATE_ENV), or which variables are
 * missing: none set means the job was deployed without a Fargate task.
 */
export function fargateSettingsFromEnv(
  env: NodeJS.ProcessEnv,
): { readonly settings: FargateSettings } | { readonly missing: readonly string[] } {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  const required = [
    FARGATE_ENV.cluster,
    FARGATE_ENV.taskDefinition,
    FARGATE_ENV.container,
    FARGATE_ENV.subnets,
  ];
  const missing = required.filter((name) => value(name) === undefined);
  if (missing.length > 0) return { missing };
  const assign = value(FARGATE_ENV.assignPublicIp) ?? 'DISABLED';
  if (assign !== 'ENABLED' && assign !== 'DISABLED')
    throw new ConfigError([`${FARGATE_ENV.assignPublicIp}: expected ENABLED or DISABLED, got "${assign}"`]);
  return {
    settings: {
      cluster: value(FARGATE_ENV.cluster) as string,
      taskDefinition: value(FARGATE_ENV.taskDefinition) as string,
      container: value(FARGATE_ENV.container) as string,
      subnets: list(value(FARGATE_ENV.subnets)),
      securityGroups: list(value(FARGATE_ENV.securityGroups)),
      assignPublicIp: assign,
    },
  };
}

const isJob = (name: string): name is JobName => (JOBS as readonly string[]).includes(name);

/** Where this run's target sends the job, and at what size; undefined for a command that is no job. */
function placementOf(context: JobContext): { runOn: RunOn; size: TaskSize } | undefined {
  return isJob(context.job) ? jobPlacement(context.target, JOB_MANIFESTS[context.job]) : undefined;
}

/**
 * Why a run estimated this way does not fit in what this Lambda run has left, or undefined when it
 * fits. An estimate without a figure fits on that resource.
 */
export function doesNotFit(
  estimate: RunEstimate,
  left: { readonly remainingMs: number; readonly tmpFreeBytes: number },
): string | undefined {
  const problems: string[] = [];
  if (estimate.durationMs !== undefined && estimate.durationMs > left.remainingMs)
    problems.push(
      `expected to take ${formatDuration(estimate.durationMs)}, ${formatDuration(Math.max(left.remainingMs, 0))} left on Lambda`,
    );
  if (estimate.tmpBytes !== undefined && estimate.tmpBytes > left.tmpFreeBytes)
    problems.push(
      `needs ${formatBytes(estimate.tmpBytes)} of local disk, ${formatBytes(Math.max(left.tmpFreeBytes, 0))} free in ${tmpdir()}`,
    );
  return problems.length > 0 ? `${problems.join('; ')} (${estimate.basis})` : undefined;
}

/** Starts one run of `job` for `target` as its Fargate task; returns the task's ARN. */
export async function startFargateTask(
  ecs: ECSClient,
  settings: FargateSettings,
  run: {
    readonly job: JobName;
    readonly target: string;
    readonly event: Readonly<Record<string, unknown>>;
    readonly size: TaskSize;
    readonly runId: string;
  },
): Promise<string> {
  // Refused here rather than by RunTask: its error names neither the target nor the config field.
  const sizeProblem = taskSizeProblem(run.size);
  if (sizeProblem)
    throw new ConfigError(
      [`targets.${run.target}.${run.job}.fargate: ${sizeProblem}`],
      `the ${run.job} task for target "${run.target}" was not started`,
    );
  let response: RunTaskCommandOutput;
  try {
    response = await ecs.send(
      new (sdk.ecs().RunTaskCommand)(
        runTaskRequest(settings, {
          ...run,
          defaults: JOB_MANIFESTS[run.job].fargate,
          requestedBy: run.runId,
        }),
      ),
    );
  } catch (error) {
    throw new JobError(
      `could not start the ${run.job} task for target "${run.target}" in ${settings.cluster}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const arn = response.tasks?.[0]?.taskArn;
  if (!arn) {
    const failures = (response.failures ?? [])
      .map((f) => [f.reason, f.detail].filter(Boolean).join(': '))
      .join('; ');
    throw new JobError(
      `ECS started no ${run.job} task for target "${run.target}" in ${settings.cluster}: ${failures || 'no reason given'}`,
    );
  }
  return arn;
}

async function freeTmpBytes(): Promise<number> {
  const stats = await statfs(tmpdir());
  return stats.bavail * stats.bsize;
}

/**
 * The Lambda run's placement: a target whose job runs on "fargate" (a console invocation of a job
 * scheduled on Fargate) goes there; "auto" goes there when the job's estimate does not fit in the
 * time and /tmp this run has; "lambda" stays. Without the deployment's Fargate settings "auto" stays
 * and "fargate" is an error saying so.
 */
export function lambdaPlacement(
  definition: { estimate?(context: JobContext, options: unknown): Promise<RunEstimate> },
  env: NodeJS.ProcessEnv,
  ecs: () => ECSClient,
): Placement {
  return async (context, options, input) => {
    const placement = placementOf(context);
    if (!placement || placement.runOn === 'lambda' || !isJob(context.job)) return undefined;
    const job = context.job;
    const found = fargateSettingsFromEnv(env);
    let reason: string;
    if (placement.runOn === 'fargate') {
      if ('missing' in found)
        throw new ConfigError(
          [
            `targets.${context.targetName}.${job}.runOn is "fargate", but this function was deployed without a Fargate task ` +
              `(${found.missing.join(', ')} not set): deploy the stack with Fargate enabled for this job, or set runOn to "lambda" or "auto"`,
          ],
          'cannot hand the run to Fargate',
        );
      reason = `targets.${context.targetName}.${job}.runOn is "fargate"`;
    } else {
      if ('missing' in found) {
        context.logger.debug(
          `${job} ${context.targetName}: runOn "auto" without a Fargate task: running here`,
        );
        return undefined;
      }
      if (!definition.estimate) return undefined;
      let estimate: RunEstimate;
      try {
        estimate = await definition.estimate(context, options);
      } catch (error) {
        // The run itself meets the same problem and reports it (once, with its alert).
        context.logger.warn(
          `${job} ${context.targetName}: no estimate (${errorMessage(error)}): running here`,
        );
        return undefined;
      }
      const misfit = doesNotFit(estimate, {
        remainingMs: context.remainingMs(),
        tmpFreeBytes: await freeTmpBytes(),
      });
      if (!misfit) {
        context.logger.info(`${job} ${context.targetName}: fits on Lambda (${estimate.basis})`);
        return undefined;
      }
      reason = misfit;
    }
    if (!('settings' in found)) return undefined;
    const taskArn = await startFargateTask(ecs(), found.settings, {
      job,
      target: context.targetName,
      event: input,
      size: placement.size,
      runId: context.runId,
    });
    return { target: context.targetName, status: 'handed off', job, taskArn, reason };
  };
}

/** A placement that always starts the job's task (the CLI's `--on fargate`): settings are read only then. */
export function fargatePlacement(
  settings: (job: JobName) => Promise<FargateSettings>,
  ecs: () => ECSClient,
  reason: string,
): Placement {
  return async (context, _options, input) => {
    const job = context.job;
    if (!isJob(job))
      throw new InputError([
        `on: ${job} runs where it is started; leave out --on (jobs with a task: ${JOBS.join(', ')})`,
      ]);
    const taskArn = await startFargateTask(ecs(), await settings(job), {
      job,
      target: context.targetName,
      event: input,
      size: jobPlacement(context.target, JOB_MANIFESTS[job]).size,
      runId: context.runId,
    });
    return { target: context.targetName, status: 'handed off', job, taskArn, reason };
  };
}
