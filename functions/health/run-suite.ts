import type { Client } from 'pg';
import type { TargetConfig } from '../shared/config/schema';
import { serverVersionNum } from '../shared/db';
import { errorMessage } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { ObjectStore } from '../shared/store';
import type { CheckResult, CheckStatus, HealthCheck, Measurement, Query } from './check';
import { evaluate, limitsFor, type ResolvedThresholds } from './thresholds';

export interface SuiteInput {
  readonly client: Client;
  readonly checks: readonly HealthCheck[];
  readonly thresholds: ReadonlyMap<string, ResolvedThresholds>;
  readonly targetName: string;
  readonly target: TargetConfig;
  readonly store: ObjectStore | undefined;
  readonly now: () => Date;
  readonly connectMs: number;
  /** What each check remembered at the previous run, by check name. */
  readonly memory: Readonly<Record<string, unknown>>;
  readonly logger: Pick<Logger, 'warn'>;
  /** Milliseconds left before the Lambda deadline. */
  readonly remainingMs: () => number;
  /** A check is not started with less time left than this (one statement timeout and a margin). */
  readonly reserveMs: number;
}

const SEVERITY: Record<CheckStatus, number> = { skipped: 0, ok: 1, unknown: 2, warning: 3, critical: 4 };

/**
 * Runs every check in one read-only transaction on one connection. Each check runs inside its own
 * savepoint: a check that fails or hits the statement timeout becomes `unknown`, the transaction
 * is rolled back to the savepoint, and the next check runs.
 */
export async function runSuite(
  input: SuiteInput,
): Promise<{ results: CheckResult[]; memory: Record<string, unknown> }> {
  const { client } = input;
  const query: Query = async <Row>(sql: string, values?: unknown[]) =>
    (await client.query(sql, values)).rows as Row[];
  const versionNum = await serverVersionNum(client);
  await client.query('begin transaction isolation level read committed read only');
  // The catalog queries look expensive to the planner on big catalogs, and JIT compiling them
  // costs more (over a second) than running them.
  await client.query('set local jit = off');
  const results: CheckResult[] = [];
  const memory: Record<string, unknown> = {};
  try {
    for (const check of input.checks) {
      const thresholds = input.thresholds.get(check.name);
      if (!thresholds) throw new Error(`no thresholds resolved for ${check.name}`);
      let measurement: Measurement | Error;
      if (input.remainingMs() < input.reserveMs) {
        // Better a result with the checks that ran than a Lambda killed at its deadline with none.
        results.push(
          toResult(check, thresholds, new Error('not started: the run is about to reach its time limit')),
        );
        if (input.memory[check.name] !== undefined) memory[check.name] = input.memory[check.name];
        continue;
      }
      try {
        await client.query('savepoint health_check');
        measurement = await check.run({
          query,
          now: input.now,
          targetName: input.targetName,
          target: input.target,
          store: input.store,
          thresholds: thresholds.parsed,
          memory: input.memory[check.name],
          connectMs: input.connectMs,
          serverVersionNum: versionNum,
        });
        await client.query('release savepoint health_check');
      } catch (error) {
        measurement = error instanceof Error ? error : new Error(String(error));
        input.logger.warn(`health check ${check.name} could not run: ${errorMessage(error)}`);
        await client.query('rollback to savepoint health_check').catch(() => {});
      }
      const result = toResult(check, thresholds, measurement);
      if (!(measurement instanceof Error) && 'memory' in measurement && measurement.memory !== undefined)
        memory[check.name] = measurement.memory;
      // A check that could not run this time keeps what it knew (e.g. since when a slot is inactive).
      else if (measurement instanceof Error && input.memory[check.name] !== undefined)
        memory[check.name] = input.memory[check.name];
      results.push(result);
    }
  } finally {
    // Read-only: nothing to keep.
    await client.query('rollback').catch(() => {});
  }
  return { results, memory };
}

function toResult(
  check: HealthCheck,
  thresholds: ResolvedThresholds,
  measurement: Measurement | Error,
): CheckResult {
  const base = { name: check.name, thresholds: thresholds.text };
  if (measurement instanceof Error) {
    return {
      ...base,
      status: 'unknown',
      value: null,
      unit: null,
      message: `could not run: ${errorMessage(measurement)}`,
      details: {},
      recommendation:
        'The check could not run: a timeout means something held it up (a lock, a busy server); a permission error names what the role lacks (see the README for which checks need more than pg_monitor).',
    };
  }
  if ('skipped' in measurement) {
    return {
      ...base,
      status: 'skipped',
      value: null,
      unit: null,
      message: `skipped: ${measurement.skipped}`,
      details: measurement.details ?? {},
      recommendation: null,
    };
  }
  const byThreshold = evaluate(
    measurement.value,
    limitsFor(thresholds.parsed, measurement.total),
    check.direction,
  );
  const forced = measurement.atLeast ?? 'ok';
  const status = SEVERITY[forced] > SEVERITY[byThreshold] ? forced : byThreshold;
  return {
    ...base,
    status,
    value: measurement.value,
    unit: measurement.value === null ? null : check.unit,
    message: measurement.message,
    details: measurement.details ?? {},
    recommendation: status === 'ok' ? null : measurement.recommendation,
  };
}
