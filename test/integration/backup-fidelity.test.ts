import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliJson, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase, withAdmin } from '../helpers/database';
import { createFidelitySchema, databaseText } from '../helpers/fidelity';
import { testTempDir } from '../helpers/temp-dirs';

describe('backup fidelity: what pgmaint restore makes of the stored archive equals the source', () => {
  let source: TestDatabase;
  const store = testTempDir('fidelity-');

  beforeAll(async () => {
    source = await createTestDatabase('fidelity_src');
    await createFidelitySchema(source);
  }, 60_000);
  afterAll(async () => {
    if (source) await withAdmin((c) => c.query(`drop database if exists ${source.name}_copy with (force)`));
    await source?.drop();
  });

  it('round-trips every kind of object', async () => {
    const config = writeConfig({
      backupBucket: pathToFileURL(store).toString(),
      targets: { src: { url: source.url } },
    });
    const { key } = await runCliJson(['backup', '--config', config, '--target', 'src', '--json']);
    const archive = join(store, ...key.split('/'));
    // Through the product's restore path, as a user restores: with the 18 client into this PostgreSQL 15
    // that is pg_restore's script run by psql (see functions/restore/script-settings.ts).
    const copy = `${source.name}_copy`;
    const restored = await runCliJson([
      'restore',
      '--config',
      config,
      '--target',
      'src',
      '--into',
      copy,
      '--json',
    ]);
    expect(restored).toMatchObject({ status: 'restored', backupKey: key, mismatches: [] });
    const [before, after] = await Promise.all([
      databaseText(source, source.name),
      databaseText(source, copy),
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
