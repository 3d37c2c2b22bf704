import * as z from 'zod';
import { refuseSeveralDatabases } from '../shared/config/databases';
import { ConfigError, ConnectionError, errorMessage } from '../shared/errors';
import type { JobContext, JobDefinition } from '../shared/job';
import type { MetricUnitName } from '../shared/metrics';
import type { ObjectStore } from '../shared/store';
import { type CheckResult, type CheckUnit, type OverallStatus, worstStatus } from './check';
import { HEALTH_CHECKS } from './checks';
import { nagiosErrorLine } from './nagios';
import { renderHealth } from './render';
import { runSuite } from './run-suite';
import { changeAlert, type HealthState, loadState, nextState, saveState, stateChanges } from './state';
import { resolveThresholds } from './thresholds';

export interface HealthResult {
  readonly target: string;
  readonly status: OverallStatus;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
}

const CHECK_NAMES = HEALTH_CHECKS.map((c) => c.name);

export const healthOptions = z.strictObject({
  /**
   * Only these checks ("connection" or "connections,idle_in_transaction"): one Nagios service per
   * check, as most monitoring is set up. Such a run neither alerts on change nor saves states.
   */
  check: z
    .union([z.string(), z.array(z.string())])
    .transform((value) =>
      (Array.isArray(value) ? value : value.split(',')).map((name) => name.trim()).filter(Boolean),
    )
    .superRefine((names, ctx) => {
      for (const name of names)
        if (!CHECK_NAMES.includes(name))
          ctx.addIssue({
            code: 'custom',
            message: `unknown check "${name}" (known: ${CHECK_NAMES.join(', ')})`,
          });
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one check' });
    })
    .optional(),
});
export type HealthOptions = z.output<typeof healthOptions>;

/** Each query gets this long; a check that needs more becomes `unknown` and the rest still run. */
const STATEMENT_TIMEOUT_MS = 10_000;
/** Catalog reads should never queue behind DDL for long. */
const LOCK_TIMEOUT_MS = 1_000;

/** Nagios plugin exit codes, so `pgmaint health` drops into existing monitoring as is. */
const NAGIOS: Record<OverallStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

const METRIC_UNITS: Record<CheckUnit, MetricUnitName> = {
  ms: 'Milliseconds',
  seconds: 'Seconds',
  percent: 'Percent',
  bytes: 'Bytes',
  count: 'Count',
};

export const healthJob: JobDefinition<HealthOptions, HealthResult> = {
  name: 'health',
  summary: 'run the health checks and report ok / warning / critical (Nagios exit codes)',
  options: healthOptions,
  flags: {
    check: {
      type: 'string',
      description: 'run only these checks, comma-separated (no state is saved, no alert)',
    },
  },
  async run(context, options) {
    refuseSeveralDatabases('health', context.targetName, context.target);
    const checks = options.check
      ? HEALTH_CHECKS.filter((c) => options.check?.includes(c.name))
      : HEALTH_CHECKS;
    const startedAt = context.now();
    const started = performance.now();
    const { thresholds, problems } = resolveThresholds(HEALTH_CHECKS, context.target, context.targetName);
    if (problems.length > 0) throw new ConfigError(problems);
    const store = context.config.backupBucket ? context.store() : undefined;
    const previous = await readPreviousState(context, store);

    const connectStarted = performance.now();
    const client = await context.connect({
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
    });
    const connectMs = performance.now() - connectStarted;
    let suite: Awaited<ReturnType<typeof runSuite>>;
    try {
      suite = await runSuite({
        client,
        checks,
        thresholds,
        targetName: context.targetName,
        target: context.target,
        store,
        now: context.now,
        connectMs,
        memory: previous.state?.memory ?? {},
        logger: context.logger,
        remainingMs: context.remainingMs,
        reserveMs: STATEMENT_TIMEOUT_MS + 5_000,
      });
    } finally {
      await client.end();
    }
    const result: HealthResult = {
      target: context.targetName,
      status: worstStatus(suite.results.map((c) => c.status)),
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - started),
      checks: suite.results,
    };
    recordMetrics(context, result);
    // A partial run knows too little to say what changed, and must not forget the other checks.
    if (!options.check) await alertOnChange(context, store, previous, result, suite.memory);
    return result;
  },
  render: renderHealth,
  exitCode: (result) => NAGIOS[result.status],
  // Cannot connect is the connection check's critical case; anything else is "unknown".
  exitCodeOnError: (error) => (error instanceof ConnectionError ? NAGIOS.critical : NAGIOS.unknown),
  // A plugin that cannot run says UNKNOWN (3), on stdout, where Nagios looks.
  usageExitCode: NAGIOS.unknown,
  renderError: (error) => nagiosErrorLine(error instanceof ConnectionError ? 'critical' : 'unknown', error),
};

interface PreviousState {
  readonly state: HealthState | undefined;
  /** Why states cannot be compared this run (no store, unreadable state): alert on every problem. */
  readonly stateless?: string;
}

async function readPreviousState(
  context: JobContext,
  store: ObjectStore | undefined,
): Promise<PreviousState> {
  if (!store)
    return {
      state: undefined,
      stateless:
        'No backup store is configured (backupBucket), so pgmaint cannot remember check states between runs: it alerts on every run that is not ok.',
    };
  try {
    return { state: await loadState(store, context.targetName) };
  } catch (error) {
    context.logger.error(
      `health ${context.targetName}: cannot read the previous state: ${errorMessage(error)}`,
    );
    return {
      state: undefined,
      stateless: `The previous check states could not be read from ${store.location} (${errorMessage(error)}): this message lists every problem, not only changes.`,
    };
  }
}

function recordMetrics(context: JobContext, result: HealthResult): void {
  if (context.target.health?.metrics === false) return;
  for (const check of result.checks) {
    const dimensions = { target: result.target, check: check.name };
    if (check.value !== null && check.unit !== null)
      context.metrics.add('HealthCheckValue', METRIC_UNITS[check.unit], check.value, dimensions);
    if (check.status !== 'skipped')
      context.metrics.add('HealthCheckStatus', 'None', NAGIOS[check.status], dimensions);
  }
}

/**
 * One SNS message per run, and only when a check changed state (ok → warning → critical, and back):
 * a schedule every 15 minutes must not page anyone 96 times a day for the same problem. The new
 * state is saved only after the alert went out, so a failed publish is retried next run.
 */
async function alertOnChange(
  context: JobContext,
  store: ObjectStore | undefined,
  previous: PreviousState,
  result: HealthResult,
  memory: Record<string, unknown>,
): Promise<void> {
  const base = { target: result.target, runId: context.runId };
  const changes = previous.stateless
    ? result.checks
        .filter((c) => c.status !== 'ok' && c.status !== 'skipped')
        .map((check) => ({ check, from: 'ok' as const, to: check.status }))
    : stateChanges(previous.state, result.checks);
  if (changes.length > 0) {
    try {
      await context.alerts.publish(changeAlert(base, changes, result.status, previous.stateless));
    } catch (error) {
      context.logger.error(
        `health ${result.target}: could not publish the state-change alert (retried next run): ${errorMessage(error)}`,
      );
      return;
    }
  }
  if (!store) return;
  try {
    await saveState(store, result.target, nextState(previous.state, result.checks, memory, context.now()));
  } catch (error) {
    context.logger.error(`health ${result.target}: could not save the check states: ${errorMessage(error)}`);
  }
}
