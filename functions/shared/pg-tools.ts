import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from './errors';

const run = promisify(execFile);

export type PgTool = 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql' | 'pg_amcheck';

/**
 * Where the PostgreSQL client tools are: PGMAINT_PG_BINDIR (the Lambda image sets it), else the
 * newest Debian-style /usr/lib/postgresql/<v>/bin, else /usr/bin (Amazon Linux), else PATH.
 */
export function pgToolPath(tool: PgTool, env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  if (env.PGMAINT_PG_BINDIR) candidates.push(env.PGMAINT_PG_BINDIR);
  for (const version of ['18', '17', '16', '15', '14', '13'])
    candidates.push(`/usr/lib/postgresql/${version}/bin`);
  candidates.push('/usr/bin', '/usr/local/bin');
  for (const dir of candidates) {
    const path = join(dir, tool);
    if (existsSync(path)) return path;
  }
  throw new ConfigError(
    [`${tool} not found (looked in ${candidates.join(', ')}); set PGMAINT_PG_BINDIR`],
    'missing tool',
  );
}

export interface PgToolVersion {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
}

const versionCache = new Map<string, Promise<PgToolVersion>>();

/** `pg_dump (PostgreSQL) 15.14 (Debian 15.14-1)` → { major: 15, minor: 14 }. */
export function pgToolVersion(tool: PgTool, env: NodeJS.ProcessEnv = process.env): Promise<PgToolVersion> {
  const path = pgToolPath(tool, env);
  let version = versionCache.get(path);
  if (!version) {
    version = run(path, ['--version']).then(({ stdout }) => parseToolVersion(stdout));
    versionCache.set(path, version);
  }
  return version;
}

export function parseToolVersion(output: string): PgToolVersion {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!match?.[1])
    throw new ConfigError([`cannot read a version from "${output.trim()}"`], 'unknown tool version');
  return { text: output.trim(), major: Number(match[1]), minor: Number(match[2] ?? 0) };
}
