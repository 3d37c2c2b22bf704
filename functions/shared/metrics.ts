import type { MetricUnit } from '@aws-lambda-powertools/metrics';

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
  // Loaded here, not at the top: the CLI publishes no metrics and need not pay for Powertools.
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
