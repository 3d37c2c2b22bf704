import { formatDuration } from '../../shared/units';
import type { HealthCheck } from '../check';

/**
 * When each major version stops getting fixes (the PostgreSQL project's versioning policy: five
 * years after its first release). A major missing here is newer than this table: not graded.
 */
export const END_OF_LIFE: Readonly<Record<number, string>> = {
  12: '2024-11-21',
  13: '2025-11-13',
  14: '2026-11-12',
  15: '2027-11-11',
  16: '2028-11-09',
  17: '2029-11-08',
  18: '2030-11-14',
};

/** "15.12" → [15, 12]; undefined when it is not major.minor. */
export function parseMajorMinor(text: string): readonly [number, number] | undefined {
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  return match?.[1] && match[2] ? [Number(match[1]), Number(match[2])] : undefined;
}

/**
 * `server_version`: time left until the server's major version reaches end of life (negative:
 * past it, no more security fixes), and, with `minimumVersions` (["15.12", "16.8"]), whether the
 * server runs at least the minor release a team requires for its major.
 */
export const serverVersionCheck: HealthCheck = {
  name: 'server_version',
  unit: 'seconds',
  kind: 'duration',
  direction: 'below',
  defaults: { warning: '180 days', critical: '0 seconds' },
  async run({ serverVersionNum, now, target }) {
    const major = Math.floor(serverVersionNum / 10_000);
    const minor = serverVersionNum % 10_000;
    const version = `${major}.${minor}`;
    const floors = target.health?.thresholds?.server_version?.minimumVersions ?? [];
    const floor = floors.map(parseMajorMinor).find((parsed) => parsed?.[0] === major);
    const behind = floor !== undefined && minor < floor[1];
    const eol = END_OF_LIFE[major];
    const details = { version, major, minor, endOfLife: eol ?? null, minimumMinor: floor?.[1] ?? null };
    const minorText = behind ? `; below the required ${major}.${floor[1]}` : '';
    const recommendation = [
      behind
        ? `Apply the latest ${major}.x minor release (a restart, no dump/restore; on RDS a minor engine version upgrade).`
        : '',
      'Plan the major upgrade before end of life: pg_upgrade, logical replication or, on RDS, a blue/green deployment; test it on a restored copy first (pgmaint restore --into).',
    ]
      .filter(Boolean)
      .join(' ');
    if (!eol)
      return {
        value: null,
        message: `PostgreSQL ${version}: end of life not known to this pgmaint version${minorText}`,
        details,
        atLeast: behind ? 'warning' : 'ok',
        recommendation,
      };
    const seconds = (Date.parse(`${eol}T00:00:00Z`) - now().getTime()) / 1000;
    const message =
      seconds < 0
        ? `PostgreSQL ${version}: major version ${major} reached end of life on ${eol} and gets no more fixes${minorText}`
        : `PostgreSQL ${version}: major version ${major} reaches end of life on ${eol}, in ${formatDuration(seconds * 1000)}${minorText}`;
    return {
      value: Math.round(seconds),
      message,
      details,
      atLeast: behind ? 'warning' : 'ok',
      recommendation,
    };
  },
};
