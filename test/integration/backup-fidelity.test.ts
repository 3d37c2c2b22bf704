import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libpqEnv } from '../../functions/shared/credentials';
import { pgToolPath } from '../../functions/shared/pg-tools';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { createFidelitySchema, databaseText } from '../helpers/fidelity';

const run = promisify(execFile);

describe('backup fidelity: what pg_restore makes of the stored archive equals the source', () => {
  let source: TestDatabase;
  let copy: TestDatabase;
  const store = mkdtempSync(join(tmpdir(), 'pgmaint-fidelity-'));

  beforeAll(async () => {
    source = await createTestDatabase('fidelity_src');
    copy = await createTestDatabase('fidelity_copy');
    await createFidelitySchema(source);
  }, 60_000);
  afterAll(async () => {
    await source?.drop();
    await copy?.drop();
  });

  it('round-trips every kind of object', async () => {
    const config = writeConfig({
      backupBucket: pathToFileURL(store).toString(),
      targets: { src: { url: source.url } },
    });
    const out = await runCli(['backup', '--config', config, '--target', 'src', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const { key } = JSON.parse(out.stdout);
    const archive = join(store, ...key.split('/'));
    await run(
      pgToolPath('pg_restore'),
      ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', copy.name, archive],
      { env: { ...process.env, ...libpqEnv(copy.settings, 'pgmaint-test') } },
    );
    const [before, after] = await Promise.all([
      databaseText(source, source.name),
      databaseText(copy, copy.name),
    ]);
    expect(after).toBe(before);
    // The comparison is only as good as what it covers: make sure the tricky parts are in it.
    for (const needle of [
      '"ünïcødé_名前"',
      'lo_create',
      "setval('billing.invoice_numbers', 4242",
      'REFRESH MATERIALIZED VIEW billing.monthly',
      'pg_trgm',
      'COMMENT ON COLUMN',
      'ATTACH PARTITION',
    ]) {
      expect(before).toContain(needle);
    }
    const globals = readFileSync(`${archive}.globals.sql`, 'utf8');
    expect(globals).toContain('CREATE ROLE postgres');
    expect(globals).not.toMatch(/PASSWORD/i);
    await withAdmin(async () => {}); // the shared server is still fine after the restore
  });
});
