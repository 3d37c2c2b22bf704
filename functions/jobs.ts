import type { AnyJobDefinition } from './shared/job';

/**
 * A CLI command as `pgmaint --help` lists it, and how to load its code. Only the command that
 * runs is loaded: `pgmaint health`, started by a monitoring server every few minutes, must not
 * pay for backup's or restore's modules (and the AWS SDK they bring).
 */
export interface CommandEntry {
  readonly name: string;
  /** The help line; the definition's own `summary` says the same (test/unit/cli-loading.test.ts). */
  readonly summary: string;
  readonly load: () => Promise<AnyJobDefinition>;
}

/** Every command the CLI offers, in the order `pgmaint --help` lists them. A command adds one line here. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'backup',
    summary: 'pg_dump streamed to the backup store, verified by a full read, then old backups pruned',
    load: async () => (await import('./backup/definition')).backupJob,
  },
  {
    name: 'backups',
    summary: 'list the verified backups of a target (of each of its databases), newest first',
    load: async () => (await import('./backup/list-definition')).backupsCommand,
  },
  {
    name: 'restore',
    summary: 'restore a verified backup into a new database (or swap it in with --replace); drills',
    load: async () => (await import('./restore/definition')).restoreJob,
  },
  {
    name: 'retention',
    summary: 'delete rows past their retention in small lock-safe batches; drop expired partitions',
    load: async () => (await import('./retention/definition')).retentionJob,
  },
  {
    name: 'reindex',
    summary: 'rebuild bloated btree indexes with REINDEX CONCURRENTLY, without blocking writes',
    load: async () => (await import('./reindex/definition')).reindexJob,
  },
  {
    name: 'health',
    summary: 'run the health checks and report ok / warning / critical (Nagios exit codes)',
    load: async () => (await import('./health/definition')).healthJob,
  },
];

/** Loads the definition a command names, or undefined for a name no command has. */
export async function loadCommand(name: string): Promise<AnyJobDefinition | undefined> {
  return COMMANDS.find((c) => c.name === name)?.load();
}
