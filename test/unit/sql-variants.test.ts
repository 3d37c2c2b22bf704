import { describe, expect, it } from 'vitest';
import { BLOCKED_QUERIES_SQL } from '../../functions/health/checks/blocked-queries';
import { CHECKPOINTS_SQL } from '../../functions/health/checks/checkpoints';
import { REPLICATION_SLOTS_SQL } from '../../functions/health/checks/replication-slots';
import { SLOW_QUERIES_SQL } from '../../functions/health/checks/slow-queries';
import {
  extensionVersionNum,
  formatVersionNum,
  loadSqlFor,
  pickSqlVariant,
  type SqlVariant,
} from '../../functions/shared/sql';

const variants: readonly SqlVariant[] = [
  { name: 'new', since: 170_000 },
  { name: 'old', since: 130_000 },
  { name: 'middle', since: 140_000 },
];

describe('pickSqlVariant: the query written for the server version', () => {
  it.each([
    [130_000, 'old'],
    [130_023, 'old'],
    [139_999, 'old'],
    [140_000, 'middle'],
    [160_014, 'middle'],
    [170_000, 'new'],
    [180_004, 'new'],
    [190_000, 'new'],
  ])('server_version_num %i runs %s', (versionNum, expected) => {
    expect(pickSqlVariant(versionNum, variants)).toBe(expected);
  });

  it('refuses a server older than every variant, naming both versions', () => {
    expect(() => pickSqlVariant(120_022, variants)).toThrow(
      'PostgreSQL 12.22 is too old for sql/new.sql (needs 13.0 or later)',
    );
    expect(() => pickSqlVariant(extensionVersionNum('1.2'), SLOW_QUERIES_SQL, 'pg_stat_statements')).toThrow(
      'pg_stat_statements 1.2 is too old for sql/health/slow_queries-pgss1.3.sql (needs 1.3 or later)',
    );
  });

  it.each([
    [130_023, '13.23'],
    [180_000, '18.0'],
    [90_624, '9.6.24'],
  ])('formats %i as %s', (versionNum, text) => {
    expect(formatVersionNum(versionNum)).toBe(text);
  });
});

describe('health queries by server version', () => {
  it.each([
    [130_023, 'health/blocked_queries-pg13'],
    [140_000, 'health/blocked_queries'],
    [180_004, 'health/blocked_queries'],
  ])('blocked_queries on %i: %s (pg_locks.waitstart is 14+)', (versionNum, name) => {
    expect(pickSqlVariant(versionNum, BLOCKED_QUERIES_SQL)).toBe(name);
  });

  it.each([
    [130_023, 'health/replication_slots-pg13'],
    [160_014, 'health/replication_slots-pg13'],
    [170_000, 'health/replication_slots'],
    [180_004, 'health/replication_slots'],
  ])('replication_slots on %i: %s (inactive_since is 17+)', (versionNum, name) => {
    expect(pickSqlVariant(versionNum, REPLICATION_SLOTS_SQL)).toBe(name);
  });

  it.each([
    [130_023, 'health/checkpoints_bgwriter'],
    [160_014, 'health/checkpoints_bgwriter'],
    [170_000, 'health/checkpoints_checkpointer'],
    [180_004, 'health/checkpoints_checkpointer'],
  ])('checkpoints on %i: %s (pg_stat_checkpointer is 17+)', (versionNum, name) => {
    expect(pickSqlVariant(versionNum, CHECKPOINTS_SQL)).toBe(name);
  });

  it.each([
    ['1.7', 'health/slow_queries-pgss1.3'],
    ['1.8', 'health/slow_queries'],
    ['1.10', 'health/slow_queries'],
    ['1.12', 'health/slow_queries'],
  ])('slow_queries with pg_stat_statements %s: %s (mean_exec_time is 1.8+)', (version, name) => {
    expect(pickSqlVariant(extensionVersionNum(version), SLOW_QUERIES_SQL)).toBe(name);
  });

  it('reads waitstart and inactive_since only in the variants for servers that have them', () => {
    // The header comments name the columns; the statements must not.
    const statement = (versionNum: number, list: readonly SqlVariant[]) =>
      loadSqlFor(versionNum, list)
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n');
    expect(statement(130_000, BLOCKED_QUERIES_SQL)).not.toContain('waitstart');
    expect(statement(140_000, BLOCKED_QUERIES_SQL)).toContain('l.waitstart');
    expect(statement(160_000, REPLICATION_SLOTS_SQL)).not.toContain('inactive_since');
    expect(statement(170_000, REPLICATION_SLOTS_SQL)).toContain('s.inactive_since');
  });
});
