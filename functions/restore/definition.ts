import type { JobDefinition } from '../shared/job';
import { estimateRestore } from './estimate';
import { type RestoreOptions, restoreOptions } from './restore-options';
import { type RestoreResult, renderRestore, runRestore } from './run-restore';

export const restoreJob: JobDefinition<RestoreOptions, RestoreResult> = {
  name: 'restore',
  summary: 'restore a verified backup into a new database (or swap it in with --replace); drills',
  options: restoreOptions,
  flags: {
    from: { type: 'string', description: "restore this target's backup (e.g. refresh staging from prod)" },
    backup: { type: 'string', description: 'a backup key, or "latest" (default)' },
    database: {
      type: 'string',
      description: 'a target with "databases": which database to restore (its latest backup by default)',
    },
    copy: {
      type: 'string',
      description: 'read the backup from its copy in this region (backup.copies), when the primary is gone',
    },
    into: {
      type: 'string',
      description: 'name of the new database (default <dbname>_restore_<yyyymmddhhmm>)',
    },
    replace: {
      type: 'boolean',
      description: 'swap the restored copy in under the live name (needs --confirm)',
    },
    confirm: { type: 'string', description: "the live database's name, to confirm --replace" },
    'keep-owners': {
      type: 'boolean',
      description: "a new database keeps the backup's owners and grants (replace always does)",
    },
    drill: {
      type: 'boolean',
      description:
        'restore drill: restore a verified backup (restore.drill.pick) into a scratch database, check it, drop it, time it against restore.drill.rto',
    },
  },
  run: runRestore,
  stopsOnSignal: true,
  estimate: estimateRestore,
  render: renderRestore,
  failed: (result) => result.status === 'failed' || result.status === 'rto-exceeded',
};
