import type { AlertSink } from './alerts';
import { snsAlerts, stderrAlerts } from './alerts';
import { s3Client, secretsClient, snsClient } from './aws';
import { loadDeployedConfig } from './config/deployed';
import { cachedSecretReader } from './credentials';
import { optionalEnv } from './env';
import { ecsClient, lambdaPlacement } from './fargate-handoff';
import type { HandedOffResult } from './handed-off';
import type { JobDefinition, JobResult } from './job';
import { lambdaLogger } from './logger';
import { emfMetrics } from './metrics';
import { logProgress } from './progress';
import { type RunnerDeps, runJob } from './run-job';
import { scrub } from './secrets-scrub';
import { processSignals, type SignalSource, stopOnSignals } from './stop-signals';

/** The parts of the Lambda context pgmaint uses. */
export interface LambdaContextLike {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

export async function lambdaDeps(
  job: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Omit<RunnerDeps, 'runId' | 'remainingMs' | 'signal'>> {
  let s3: ReturnType<typeof s3Client> | undefined;
  const s3Once = () => {
    s3 ??= s3Client(env);
    return s3;
  };
  const config = await loadDeployedConfig(env, s3Once);
  const logger = lambdaLogger(job);
  const topicArn = config.alerts.topicArn;
  const alerts: AlertSink = topicArn ? snsAlerts(snsClient(topicArn), topicArn) : stderrAlerts();
  return {
    config,
    failureAlerts: optionalEnv('PGMAINT_FAILURE_ALERTS', env) === 'destination' ? 'destination' : 'publish',
    logger,
    metrics: emfMetrics(),
    alerts,
    // Periodic structured lines: a long run shows in the log while it goes, not only at its end.
    progress: (job, target) => logProgress({ job, target, logger }),
    readSecret: cachedSecretReader(secretsClient),
    s3: s3Once,
  };
}

/**
 * A thin Lambda door into a job core. Clients and the secret cache live for the life of the
 * warm container; each invocation gets its own run id (the request id) and deadline.
 * During an invocation SIGTERM stops the run as on the CLI. Lambda sends it only when shutting an
 * environment down with an extension registered, and allows ~300-500 ms before SIGKILL: the
 * cancel starts, it may not finish; the next backup's sweep of stale uploads is the guarantee.
 */
export function makeHandler<Options, Result extends JobResult>(
  definition: JobDefinition<Options, Result>,
  signals: SignalSource = processSignals,
  env: NodeJS.ProcessEnv = process.env,
) {
  // The config is read once per warm container; a failed read is tried again on the next event.
  let pending: ReturnType<typeof lambdaDeps> | undefined;
  let ecs: ReturnType<typeof ecsClient> | undefined;
  // runOn "fargate", or "auto" with an estimate that does not fit: the run goes to the job's task.
  const placement = lambdaPlacement(definition as Parameters<typeof lambdaPlacement>[0], env, () => {
    ecs ??= ecsClient();
    return ecs;
  });
  return async (event: unknown, context?: LambdaContextLike): Promise<Result | HandedOffResult> => {
    pending ??= lambdaDeps(definition.name, env).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    const deps = await pending;
    const remaining = context?.getRemainingTimeInMillis?.bind(context);
    const stop = definition.stopsOnSignal
      ? stopOnSignals(signals, (signal) => deps?.logger.warn(`${signal}: stopping and cleaning up`))
      : undefined;
    try {
      return await runJob(
        definition,
        event,
        {
          ...deps,
          runId: context?.awsRequestId,
          remainingMs: remaining ?? (() => Number.POSITIVE_INFINITY),
          signal: stop?.signal,
        },
        placement,
      );
    } catch (error) {
      // The runtime copies the message into the failure record the alert is made from, outside
      // this process, where the secrets this run read are not known: scrub it here.
      if (error instanceof Error) error.message = scrub(error.message);
      throw error;
    } finally {
      stop?.dispose();
    }
  };
}
