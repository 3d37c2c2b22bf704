import type * as z from 'zod';
import { counterMemorySchema, parseMemory } from '../memory';

/**
 * PostgreSQL's statistics counters only grow (until a reset), so "how many since the last run" is
 * a difference against the values the previous run remembered. Without a previous run, or after
 * a reset made a counter go down, the counters are taken as they are, since the statistics began.
 */
export type CounterMemory = z.infer<typeof counterMemorySchema>;

export interface CounterDelta<K extends string> {
  readonly delta: Readonly<Record<K, number>>;
  readonly seconds: number;
  /** What the delta is measured from, for the message. */
  readonly from: 'the previous run' | 'the statistics reset';
  readonly memory: CounterMemory;
}

export function countersSince<K extends string>(
  memory: unknown,
  values: Readonly<Record<K, number>>,
  now: Date,
  statisticsSince: Date,
): CounterDelta<K> {
  const keys = Object.keys(values) as K[];
  const remembered = parseMemory(counterMemorySchema, memory);
  const usable =
    remembered !== undefined &&
    keys.every((k) => typeof remembered.values[k] === 'number' && (remembered.values[k] ?? 0) <= values[k]);
  const delta = Object.fromEntries(
    keys.map((k) => [k, usable ? values[k] - (remembered.values[k] ?? 0) : values[k]]),
  ) as Record<K, number>;
  const start = usable ? new Date(remembered.at) : statisticsSince;
  return {
    delta,
    seconds: Math.max(1, (now.getTime() - start.getTime()) / 1000),
    from: usable ? 'the previous run' : 'the statistics reset',
    memory: { at: now.toISOString(), values },
  };
}
