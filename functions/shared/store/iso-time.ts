import * as z from 'zod';

/**
 * A timestamp as pgmaint stores it (toISOString). Its own module so that health's small check
 * memories (functions/health/memory.ts) need not build every schema of the store layout.
 */
export const isoTime = z.string().refine((text) => !Number.isNaN(Date.parse(text)), {
  error: 'expected an ISO timestamp',
});
