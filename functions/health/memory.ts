import * as z from 'zod';
import { isoTime } from '../shared/store/iso-time';

/**
 * What some checks remember between runs, kept in the stored health state's `memory`
 * (functions/shared/store/layout.ts healthStateSchema). Apart from the layout so that a run
 * without a backup store never builds the store's schemas: `pgmaint health` is a process Nagios
 * starts every few minutes.
 */

/** The counter checks: the statistics counters as the previous run saw them. */
export const counterMemorySchema = z.object({ at: isoTime, values: z.record(z.string(), z.number()) });
/** replication_slots: since when it first saw each slot inactive, by slot name. */
export const slotMemorySchema = z.record(z.string(), isoTime);

/**
 * A check's memory from the stored health state (already parsed as a whole with
 * healthStateSchema): one that does not fit its schema (absent, or from another version) is
 * forgotten, and the check starts afresh as on its first run.
 */
export function parseMemory<T>(schema: z.ZodType<T>, memory: unknown): T | undefined {
  const parsed = schema.safeParse(memory);
  return parsed.success ? parsed.data : undefined;
}
