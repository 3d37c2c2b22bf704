import * as z from 'zod';
import { namesSeveralDatabases } from '../shared/config/databases';
import type { JobDefinition } from '../shared/job';
import { estimateBackup } from './estimate';
import { type BackupResult, renderBackup, runBackup } from './run-backup';
import { runServerBackup, type ServerBackupResult } from './server-backup';

export const backupOptions = z.strictObject({});
export type BackupOptions = z.output<typeof backupOptions>;

export const backupJob: JobDefinition<BackupOptions, BackupResult | ServerBackupResult> = {
  name: 'backup',
  summary: 'pg_dump streamed to the backup store, verified by a full read, then old backups pruned',
  options: backupOptions,
  flags: {},
  run: (context) => (namesSeveralDatabases(context.target) ? runServerBackup(context) : runBackup(context)),
  // One database's size and earlier backups; a server backup of several databases is not estimated.
  estimate: (context) =>
    namesSeveralDatabases(context.target)
      ? Promise.resolve({ basis: 'a backup of several databases is not estimated' })
      : estimateBackup(context),
  stopsOnSignal: true,
  render: renderBackup,
};
