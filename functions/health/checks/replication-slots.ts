import { loadSqlFor, type SqlVariant } from '../../shared/sql';
import { formatBytes, formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';
import { parseMemory, slotMemorySchema } from '../memory';

interface Row {
  slot: string;
  type: string;
  database: string | null;
  active: boolean;
  walStatus: string | null;
  inactiveSince: Date | null;
  retainedBytes: number | null;
}

/** Since when health first saw each slot inactive (PostgreSQL before 17 does not record it). */
type SlotMemory = Record<string, string>;

/** pg_replication_slots.inactive_since is PostgreSQL 17+. */
export const REPLICATION_SLOTS_SQL: readonly SqlVariant[] = [
  { name: 'health/replication_slots-pg13', since: 130_000 },
  { name: 'health/replication_slots', since: 170_000 },
];

/** `replication_slots`: WAL held back by slots, and slots nobody consumes any more. */
export const replicationSlotsCheck: HealthCheck = {
  name: 'replication_slots',
  unit: 'bytes',
  kind: 'size',
  defaults: { warning: '1 GB', critical: '10 GB', inactiveFor: '1 hour' },
  async run({ query, now, memory, thresholds, store, serverVersionNum }) {
    const rows = await query<Row>(loadSqlFor(serverVersionNum, REPLICATION_SLOTS_SQL));
    if (rows.length === 0) return { skipped: 'no replication slot' };
    const previous: SlotMemory = parseMemory(slotMemorySchema, memory) ?? {};
    const seen: SlotMemory = {};
    const at = now();
    const limit = thresholds.inactiveForSeconds;
    // Before 17 the server does not record since when a slot is inactive; health remembers it in
    // the backup store, and without one each run would start the count afresh.
    const unknowable = rows
      .filter((row) => !row.active && !row.inactiveSince && previous[row.slot] === undefined && !store)
      .map((row) => row.slot);
    const slots = rows.map((row) => {
      let since = row.inactiveSince;
      if (!row.active && !since) {
        since = new Date(previous[row.slot] ?? at.toISOString());
        seen[row.slot] = since.toISOString();
      }
      const inactiveSeconds = !row.active && since ? Math.max(0, (at.getTime() - since.getTime()) / 1000) : 0;
      return { ...row, inactiveSince: row.active ? null : (since?.toISOString() ?? null), inactiveSeconds };
    });
    const retained = Math.max(0, ...slots.map((s) => s.retainedBytes ?? 0));
    const inactive = slots.filter((s) => !s.active);
    const stale = inactive.filter((s) => limit !== null && s.inactiveSeconds >= limit);
    const worst = [...slots].sort((a, b) => (b.retainedBytes ?? 0) - (a.retainedBytes ?? 0))[0];
    const parts = [`${slots.length} slot(s), ${inactive.length} inactive`];
    if (worst)
      parts.push(
        `most WAL held back: ${formatBytes(retained)} by ${worst.slot}${worst.active ? '' : ' (inactive)'}`,
      );
    if (stale.length > 0)
      parts.push(
        `inactive for ${formatDuration((stale[0]?.inactiveSeconds ?? 0) * 1000)} or more: ${stale.map((s) => s.slot).join(', ')}`,
      );
    const cannotKnow = limit !== null && unknowable.length > 0;
    if (cannotKnow)
      parts.push(
        `cannot know how long ${unknowable.join(', ')} ${unknowable.length === 1 ? 'has' : 'have'} been inactive: PostgreSQL before 17 does not record it, and without a backup store (backupBucket) health cannot remember when it first saw ${unknowable.length === 1 ? 'it' : 'them'} inactive, so inactiveFor cannot fire`,
      );
    return {
      value: retained,
      message: parts.join('; '),
      details: {
        slots: slots.map((s) =>
          unknowable.includes(s.slot) ? { ...s, inactiveSince: null, inactiveSeconds: null } : s,
        ),
      },
      atLeast: stale.length > 0 ? 'warning' : cannotKnow ? 'unknown' : 'ok',
      memory: seen,
      recommendation:
        (cannotKnow
          ? 'To have inactive slots flagged on PostgreSQL before 17, configure a backup store (backupBucket) where health keeps what it saw, or upgrade to 17 (pg_replication_slots.inactive_since). '
          : '') +
        'A slot keeps every WAL segment its consumer has not confirmed, until the disk fills. Reconnect the consumer, or drop the slot with pg_drop_replication_slot(name) if nothing will use it again; set max_slot_wal_keep_size as a safety net.',
    };
  },
};
