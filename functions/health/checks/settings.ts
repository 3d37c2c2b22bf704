import { loadSql } from '../../shared/sql';
import type { HealthCheck } from '../check';

interface Row {
  name: string;
  setting: string;
  unit: string | null;
  shown: string;
}

interface Mismatch {
  readonly name: string;
  readonly expected: string;
  /** The value shown by the server; null when the server has no such setting. */
  readonly actual: string | null;
}

/** A setting matches when its value, as shown or in its base unit, is the one expected. */
export function settingMatches(row: Row, expected: string): boolean {
  const want = expected.trim().toLowerCase();
  return [row.shown, row.setting].some((value) => value.trim().toLowerCase() === want);
}

/**
 * `settings`: the server settings a team relies on (`thresholds.settings.expect`:
 * `{ "ssl": "on", "log_min_duration_statement": "1s" }`) still have those values, so a parameter
 * group change or a restore onto a fresh instance that lost them is noticed. Each mismatch counts.
 */
export const settingsCheck: HealthCheck = {
  name: 'settings',
  unit: 'count',
  kind: 'count',
  defaults: { warning: 1, critical: null },
  async run({ query, target }) {
    const expect = target.health?.thresholds?.settings?.expect ?? {};
    const names = Object.keys(expect);
    if (names.length === 0)
      return { skipped: 'no expected settings configured (health.thresholds.settings.expect)' };
    const rows = await query<Row>(loadSql('health/settings'), [names]);
    const byName = new Map(rows.map((row) => [row.name, row]));
    const mismatches = names.flatMap((name): Mismatch[] => {
      const want = String(expect[name]);
      const row = byName.get(name);
      if (!row) return [{ name, expected: want, actual: null }];
      return settingMatches(row, want) ? [] : [{ name, expected: want, actual: row.shown }];
    });
    return {
      value: mismatches.length,
      message:
        mismatches.length === 0
          ? `all ${names.length} expected setting(s) have their values`
          : mismatches
              .map((m) =>
                m.actual === null
                  ? `${m.name}: no such setting on this server`
                  : `${m.name} = ${m.actual} (expected ${m.expected})`,
              )
              .join('; '),
      details: { mismatches, checked: names },
      recommendation:
        'Set the values again where the server is configured (postgresql.conf / ALTER SYSTEM, or the RDS parameter group, then reload or reboot as the setting needs), or update the expected values in the config if the change was meant.',
    };
  },
};
