import type { AlertSink } from './alerts';
import { snsAlerts, stderrAlerts } from './alerts';
import { s3Client, secretsClient, snsClient } from './aws';
import { parseConfig } from './config/load';
import { cachedSecretReader } from './credentials';
import { optionalEnv, requireEnv } from './env';
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

/**
 * The config a function runs with: the stack writes the slice of the pgmaint config this job
 * needs into PGMAINT_CONFIG, and the bucket and topic it created (or imported) beside it.
 */
export function deployedConfig(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const slice = JSON.parse(requireEnv('PGMAINT_CONFIG', env)) as Record<string, unknown>;
  const bucket = optionalEnv('PGMAINT_BACKUP_BUCKET', env);
  const topicArn = optionalEnv('PGMAINT_ALERT_TOPIC_ARN', env);
  return {
    ...slice,
    ...(bucket ? { backupBucket: bucket } : {}),
    ...(topicArn ? { alerts: { ...(slice.alerts as object | undefined), topicArn } } : {}),
  };
}

export function lambdaDeps(
  job: string,
  env: NodeJS.ProcessEnv = process.env,
): Omit<RunnerDeps, 'runId' | 'remainingMs' | 'signal'> {
  const config = parseConfig(deployedConfig(env), 'PGMAINT_CONFIG');
  const logger = lambdaLogger(job);
  let s3: ReturnType<typeof s3Client> | undefined;
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
    readSecret: cachedSecretReader(secretsClient()),
    s3: () => {
      s3 ??= s3Client(env);
      return s3;
    },
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
) {
  let deps: ReturnType<typeof lambdaDeps> | undefined;
  return async (event: unknown, context?: LambdaContextLike): Promise<Result> => {
    deps ??= lambdaDeps(definition.name);
    const remaining = context?.getRemainingTimeInMillis?.bind(context);
    const stop = definition.stopsOnSignal
      ? stopOnSignals(signals, (signal) => deps?.logger.warn(`${signal}: stopping and cleaning up`))
      : undefined;
    try {
      return await runJob(definition, event, {
        ...deps,
        runId: context?.awsRequestId,
        remainingMs: remaining ?? (() => Number.POSITIVE_INFINITY),
        signal: stop?.signal,
      });
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
