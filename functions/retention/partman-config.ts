import type { Client } from 'pg';
import { ident, sqlWithSlots } from '../shared/pg/sql-names';
import { loadSql } from '../shared/sql';

/** How pg_partman maintains one partition set, when it does. */
export type PartmanSet =
  | { readonly managed: false }
  | { readonly managed: true; readonly schema: string; readonly premake: number; readonly interval: string }
  /** pg_partman is installed but this role may not read its part_config: whether it manages the set is unknown. */
  | { readonly managed: 'unknown'; readonly schema: string };

/** Looks the parent up in pg_partman's part_config, in whatever schema the extension lives. */
export async function partmanSet(client: Client, parentOid: string): Promise<PartmanSet> {
  const extension = (
    await client.query<{ schema: string; readable: boolean }>(loadSql('retention/partman-extension'))
  ).rows[0];
  if (!extension) return { managed: false };
  if (!extension.readable) return { managed: 'unknown', schema: extension.schema };
  const config = (
    await client.query<{ premake: number; partition_interval: string }>(
      sqlWithSlots('retention/partman-config', { config: ident(extension.schema, 'part_config') }),
      [parentOid],
    )
  ).rows[0];
  if (!config) return { managed: false };
  return {
    managed: true,
    schema: extension.schema,
    premake: config.premake,
    interval: config.partition_interval,
  };
}
