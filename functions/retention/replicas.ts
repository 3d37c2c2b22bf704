import type { Client } from 'pg';
import { loadSql } from '../shared/sql';
import type { Replicas } from './pacing';

/** This server's replicas as pg_stat_replication shows them to this role (one round trip, after a batch). */
export async function readReplicas(client: Client): Promise<Replicas> {
  type Row = { hidden: number; behind_bytes: number };
  const row = (await client.query<Row>(loadSql('retention/replicas'))).rows[0];
  return { hidden: row?.hidden ?? 0, behindBytes: row?.behind_bytes ?? 0 };
}
