import type { ReindexConfig } from '../shared/config/schema';

export interface ServerFacts {
  readonly server_version: string;
  readonly server_version_num: number;
  readonly in_recovery: boolean;
  readonly block_size: number;
  /** The pgstattuple extension's schema as the catalog spells it; null when the extension is not installed. */
  readonly pgstattuple_schema: string | null;
}

/**
 * Why this server must not be reindexed in this mode, or undefined when it may. REINDEX
 * CONCURRENTLY arrived in 12; 14.0–14.3 could build indexes that miss entries (fixed in 14.4).
 */
export function refusal(facts: ServerFacts, mode: ReindexConfig['mode']): string | undefined {
  if (facts.in_recovery) return 'the server is a standby (in recovery); reindex runs on the primary';
  if (mode === 'database') return undefined;
  const version = facts.server_version_num;
  if (version < 120000) {
    return `PostgreSQL ${facts.server_version} has no REINDEX CONCURRENTLY (needs 12 or later); use mode "database" in a maintenance window`;
  }
  if (version >= 140000 && version < 140004) {
    return `PostgreSQL ${facts.server_version}: concurrent index builds on 14.0–14.3 can miss entries (fixed in 14.4); upgrade first`;
  }
  return undefined;
}
