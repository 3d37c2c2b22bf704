import type { MetricUnit } from '@aws-lambda-powertools/metrics';
import { optionalEnv } from './env';

export type MetricUnitName = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes' | 'Percent' | 'None';

/** The narrow metrics shape the cores use; in Lambda it writes CloudWatch embedded metric format. */
export interface MetricsSink {
  add(name: string, unit: MetricUnitName, value: number, dimensions: Record<string, string>): void;
  flush(): void;
}

/**
 * Powertools Metrics: EMF lines that CloudWatch turns into metrics with no API calls and no
 * extra latency. Each dimension set gets its own EMF document (one per target and check).
 */
export function emfMetrics(namespace = 'pgmaint'): MetricsSink {
  // Loaded here, not at the top: a CLI run without PGMAINT_METRICS=emf need not pay for Powertools.
  const { Metrics, MetricUnit: Unit } =
    require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
  const UNITS: Record<MetricUnitName, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
    Count: Unit.Count,
    Seconds: Unit.Seconds,
    Milliseconds: Unit.Milliseconds,
    Bytes: Unit.Bytes,
    Percent: Unit.Percent,
    None: Unit.NoUnit,
  };
  const pending: Array<{
    name: string;
    unit: MetricUnitName;
    value: number;
    dimensions: Record<string, string>;
  }> = [];
  return {
    add: (name, unit, value, dimensions) => {
      if (Number.isFinite(value)) pending.push({ name, unit, value, dimensions });
    },
    flush: () => {
      const groups = new Map<string, typeof pending>();
      for (const metric of pending) {
        const key = JSON.stringify(Object.entries(metric.dimensions).sort());
        groups.set(key, [...(groups.get(key) ?? []), metric]);
      }
      for (const group of groups.values()) {
        const metrics = new Metrics({ namespace, serviceName: 'pgmaint' });
        const first = group[0];
        if (first) metrics.addDimensions(first.dimensions);
        for (const metric of group) metrics.addMetric(metric.name, UNITS[metric.unit], metric.value);
        metrics.publishStoredMetrics();
      }
      pending.length = 0;
    },
  };
}

export const noMetrics: MetricsSink = { add() {}, flush() {} };

/**
 * `PGMAINT_METRICS=emf`: the CLI writes its metrics as EMF lines on stdout too. A Fargate task
 * sets it: its stdout is the job's CloudWatch log group, where CloudWatch extracts them as it
 * does a Lambda run's, so JobSucceeded (the "no successful run" alarms' metric) counts task runs.
 */
export const METRICS_ENV = 'PGMAINT_METRICS';

/** The CLI's metrics: none, unless the environment asks for EMF (see METRICS_ENV). */
export function cliMetrics(env: NodeJS.ProcessEnv): MetricsSink {
  return optionalEnv(METRICS_ENV, env) === 'emf' ? emfMetrics() : noMetrics;
}
