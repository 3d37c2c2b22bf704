import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_CLIENT_MAJOR } from '../helpers/pg-client-build';
import { NEWEST_SERVER_MAJOR } from '../helpers/server-versions';

const dockerfile = readFileSync(join(__dirname, '..', '..', 'lib', 'image', 'Dockerfile'), 'utf8');

/** The majors of the postgresqlNN packages the image's `dnf install` lines install. */
function installedClientMajors(text: string): number[] {
  const installs = text.split('\n').filter((line) => /^\s*RUN\b.*\bdnf\s+install\b/.test(line));
  return installs.flatMap((line) => [...line.matchAll(/\bpostgresql(\d+)\b/g)].map((m) => Number(m[1])));
}

describe('the Lambda image’s PostgreSQL client', () => {
  it('is one Amazon Linux postgresqlNN package', () => {
    expect(
      installedClientMajors(dockerfile),
      'lib/image/Dockerfile must dnf install one postgresqlNN',
    ).toHaveLength(1);
  });

  it(`is not older than the newest server major the tests cover (${NEWEST_SERVER_MAJOR}): pg_dump refuses newer servers`, () => {
    const [major] = installedClientMajors(dockerfile);
    expect(
      major,
      `lib/image/Dockerfile installs postgresql${major}; install postgresql${NEWEST_SERVER_MAJOR} or newer`,
    ).toBeGreaterThanOrEqual(NEWEST_SERVER_MAJOR);
  });

  it('is the major the integration tests build and run', () => {
    expect(installedClientMajors(dockerfile)).toEqual([PG_CLIENT_MAJOR]);
  });

  it('keeps zstd, which the PostgreSQL 16+ dumps are compressed with', () => {
    expect(dockerfile).toMatch(/^\s*RUN\b.*\bdnf\s+install\b.*\bzstd\b/m);
  });
});
