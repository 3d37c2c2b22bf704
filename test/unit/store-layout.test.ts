import { describe, expect, it } from 'vitest';
import { restoreDrillCheck } from '../../functions/health/checks/restore-drill';
import { loadState } from '../../functions/health/state';
import { listBackups, resolveBackup } from '../../functions/shared/backup-catalog';
import { fileStore } from '../../functions/shared/store';
import { type BackupManifest, backupKey, manifestKey, storedJson } from '../../functions/shared/store/layout';
import { verifiedManifest } from '../helpers/stored-backups';
import { testTempDir } from '../helpers/temp-dirs';

const manifest = (key: string): BackupManifest => ({
  ...verifiedManifest('prod', new Date('2026-01-01T00:00:00.000Z')),
  key,
  bytes: 10,
  rowCountsExact: false,
});

async function storeWithOneGoodOneBad() {
  const store = fileStore(testTempDir('layout-'));
  const good = backupKey('prod', new Date('2026-01-01T00:00:00Z'));
  const bad = backupKey('prod', new Date('2026-01-02T00:00:00Z'));
  await store.put(manifestKey(good), storedJson(manifest(good)));
  await store.put(manifestKey(bad), storedJson({ ...manifest(bad), bytes: 'many' }));
  return { store, good, bad };
}

describe('what is read back from the store', () => {
  it('skips a manifest that does not parse from a listing, with a warning naming its key', async () => {
    const { store, good, bad } = await storeWithOneGoodOneBad();
    const warnings: string[] = [];
    const backups = await listBackups(store, 'prod', (w) => warnings.push(w));
    expect(backups.map((b) => b.key)).toEqual([good]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(manifestKey(bad));
    expect(warnings[0]).toContain('bytes');
  });

  it('refuses to restore from a named manifest that does not parse, naming its key', async () => {
    const { store, bad } = await storeWithOneGoodOneBad();
    await expect(resolveBackup(store, 'prod', bad)).rejects.toThrow(`${manifestKey(bad)} is not what`);
    await expect(resolveBackup(store, 'prod', 'latest')).rejects.toThrow(manifestKey(bad));
  });

  it('keeps fields a newer pgmaint added to a manifest', async () => {
    const { store, good } = await storeWithOneGoodOneBad();
    await store.put(manifestKey(good), storedJson({ ...manifest(good), futureField: 7 }));
    const read = await resolveBackup(store, 'prod', good);
    expect((read as Record<string, unknown>).futureField).toBe(7);
  });

  it('names the health state key when the state is not a health state', async () => {
    const store = fileStore(testTempDir('layout-'));
    await store.put('state/prod/health.json', storedJson({ formatVersion: 1, checks: [] }));
    await expect(loadState(store, 'prod')).rejects.toThrow('state/prod/health.json is not what');
    await store.put('state/prod/health.json', 'not json');
    await expect(loadState(store, 'prod')).rejects.toThrow('state/prod/health.json is not JSON');
  });

  it('names the drill record key when the record does not parse', async () => {
    const store = fileStore(testTempDir('layout-'));
    await store.put('state/prod/restore-drill.json', storedJson({ finishedAt: 'yesterday', status: 'ok' }));
    const input = { store, targetName: 'prod', now: () => new Date() } as unknown as Parameters<
      typeof restoreDrillCheck.run
    >[0];
    await expect(restoreDrillCheck.run(input)).rejects.toThrow(
      /state\/prod\/restore-drill\.json is not what.*finishedAt.*status/,
    );
  });
});
