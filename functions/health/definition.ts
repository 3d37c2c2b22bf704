import { z } from 'zod';
import { ConnectionError } from '../shared/errors';
import type { JobDefinition } from '../shared/job';
import { type CheckResult, type CheckStatus, worstStatus } from './check';
import { connectionCheck } from './checks/connection';

export interface HealthResult {
  readonly target: string;
  readonly status: CheckStatus;
  readonly checkedAt: string;
  readonly checks: readonly CheckResult[];
}

export const healthOptions = z.strictObject({});
export type HealthOptions = z.output<typeof healthOptions>;

/** Nagios plugin exit codes, so `pgmaint health` drops into existing monitoring as is. */
const NAGIOS: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

export const healthJob: JobDefinition<HealthOptions, HealthResult> = {
  name: 'health',
  summary: 'run the health checks and report ok / warning / critical',
  options: healthOptions,
  flags: {},
  async run(context) {
    const connectStarted = performance.now();
    const client = await context.connect({ statementTimeoutMs: 30_000, lockTimeoutMs: 1_000 });
    const connectMs = performance.now() - connectStarted;
    try {
      const checks = [await connectionCheck((sql) => client.query(sql), connectMs)];
      return {
        target: context.targetName,
        status: worstStatus(checks.map((c) => c.status)),
        checkedAt: context.now().toISOString(),
        checks,
      };
    } finally {
      await client.end();
    }
  },
  render(result) {
    const lines = [`${result.target}: ${result.status.toUpperCase()}`];
    for (const check of result.checks)
      lines.push(`  ${check.status.padEnd(8)} ${check.name.padEnd(22)} ${check.message}`);
    return lines.join('\n');
  },
  exitCode: (result) => NAGIOS[result.status],
  // Cannot connect is the connection check's critical case; anything else is "unknown".
  exitCodeOnError: (error) => (error instanceof ConnectionError ? NAGIOS.critical : NAGIOS.unknown),
};
