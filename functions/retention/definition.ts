import * as z from 'zod';
import { refuseSeveralDatabases } from '../shared/config/databases';
import type { JobDefinition } from '../shared/job';
import { renderRetention } from './render';
import type { RetentionResult } from './result';
import { runRetention } from './run-retention';

export const retentionOptions = z.strictObject({
  /** Report what would go (rows, partitions, oldest row, table size) and delete nothing. */
  dryRun: z.boolean({ error: 'expected true or false' }).optional(),
});
export type RetentionOptions = z.output<typeof retentionOptions>;

export const retentionJob: JobDefinition<RetentionOptions, RetentionResult> = {
  name: 'retention',
  summary: 'delete rows past their retention in small lock-safe batches; drop expired partitions',
  options: retentionOptions,
  flags: {
    'dry-run': {
      type: 'boolean',
      description: 'show what would be deleted (rows, partitions), delete nothing',
    },
  },
  run: (context, options) => {
    refuseSeveralDatabases('retention', context.targetName, context.target);
    return runRetention(context, { dryRun: options.dryRun ?? false });
  },
  stopsOnSignal: true,
  render: renderRetention,
};
