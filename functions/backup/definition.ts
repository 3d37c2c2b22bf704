import { z } from 'zod';
import type { JobDefinition } from '../shared/job';
import { estimateBackup } from './estimate';
import { type BackupResult, renderBackup, runBackup } from './run-backup';

export const backupOptions = z.strictObject({});
export type BackupOptions = z.output<typeof backupOptions>;

export const backupJob: JobDefinition<BackupOptions, BackupResult> = {
  name: 'backup',
  summary: 'pg_dump streamed to the backup store, verified by a full read, then old backups pruned',
  options: backupOptions,
  flags: {},
  run: (context) => runBackup(context),
  estimate: (context) => estimateBackup(context),
  stopsOnSignal: true,
  render: renderBackup,
};
