import { pgToolPath } from '../shared/pg-tools';
import { spawnTool } from '../shared/tool-process';

export type GlobalsDump = { sql: string; skipped?: undefined } | { sql?: undefined; skipped: string };

/**
 * Roles and tablespaces (`pg_dumpall --globals-only --no-role-passwords`), saved beside the dump so
 * a restore onto a fresh server can recreate them. Managed databases restrict parts of the catalog
 * (RDS hides pg_authid): a failure here is reported, never fatal to the backup itself.
 */
export async function dumpGlobals(env: NodeJS.ProcessEnv, database: string): Promise<GlobalsDump> {
  const tool = spawnTool(
    pgToolPath('pg_dumpall'),
    ['--globals-only', '--no-role-passwords', '--no-password', `--database=${database}`],
    env,
  );
  const chunks: Buffer[] = [];
  tool.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await tool.exited;
  if (code !== 0) return { skipped: `pg_dumpall exited ${code}: ${tool.stderrTail()}` };
  return { sql: Buffer.concat(chunks).toString('utf8') };
}
