import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseDumpJobs } from '../../functions/backup/dump-jobs';
import { deleteBackups, orphanDumps } from '../../functions/backup/prune-backups';
import type { BackupManifest } from '../../functions/shared/backup-catalog';
import { backupSection } from '../../functions/shared/config/sections';
import { fileStore } from '../../functions/shared/store';
import { testTempDir } from '../helpers/temp-dirs';

const DAY_MS = 86_400_000;

describe('orphan cleanup of directory-format backups', () => {
  const now = new Date('2026-11-23T02:30:00Z');

  async function storeWith(objects: Record<string, number>) {
    const root = testTempDir('orphans-');
    const store = fileStore(root);
    for (const [key, ageMs] of Object.entries(objects)) {
      await store.put(key, 'x');
      const at = new Date(now.getTime() - ageMs);
      utimesSync(join(root, ...key.split('/')), at, at);
    }
    return store;
  }

  it('removes every file (and the globals) of a day-old directory prefix that has no manifest', async () => {
    const store = await storeWith({
      'prod/2026/11/21/prod-20261121T020000Z.dir/toc.dat': 2 * DAY_MS,
      'prod/2026/11/21/prod-20261121T020000Z.dir/3456.dat.zst': 2 * DAY_MS,
      'prod/2026/11/21/prod-20261121T020000Z.dir.globals.sql': 2 * DAY_MS,
    });
    expect((await orphanDumps(store, 'prod', now)).sort()).toEqual([
      'prod/2026/11/21/prod-20261121T020000Z.dir.globals.sql',
      'prod/2026/11/21/prod-20261121T020000Z.dir/3456.dat.zst',
      'prod/2026/11/21/prod-20261121T020000Z.dir/toc.dat',
    ]);
  });

  it('keeps a prefix with a manifest, and one with a file younger than a day (a run may be writing it)', async () => {
    const store = await storeWith({
      'prod/2026/11/20/prod-20261120T020000Z.dir/toc.dat': 3 * DAY_MS,
      'prod/2026/11/20/prod-20261120T020000Z.dir.manifest.json': 3 * DAY_MS,
      'prod/2026/11/22/prod-20261122T020000Z.dir/3456.dat.zst': 2 * DAY_MS,
      'prod/2026/11/22/prod-20261122T020000Z.dir/3457.dat.zst': 3_600_000,
    });
    expect(await orphanDumps(store, 'prod', now)).toEqual([]);
  });
});

describe('deleting an expired directory-format backup', () => {
  it('removes its manifest, every file it lists and its globals, and nothing else', async () => {
    const root = testTempDir('delete-');
    const store = fileStore(root);
    const key = 'prod/2026/11/01/prod-20261101T020000Z.dir';
    const other = 'prod/2026/11/02/prod-20261102T020000Z.dump';
    for (const k of [
      `${key}/toc.dat`,
      `${key}/3456.dat.zst`,
      `${key}.manifest.json`,
      `${key}.globals.sql`,
      other,
    ])
      await store.put(k, 'x');
    const manifest = {
      key,
      format: 'directory',
      files: [
        { name: 'toc.dat', bytes: 1, sha256: '' },
        { name: '3456.dat.zst', bytes: 1, sha256: '' },
      ],
    } as unknown as BackupManifest;
    await deleteBackups(store, [manifest]);
    expect((await store.list('prod/')).map((o) => o.key)).toEqual([other]);
  });
});

describe('backup.jobs', () => {
  it('defaults to "auto" and refuses anything but "auto" or 1-64', () => {
    expect(backupSection.parse({}).jobs).toBe('auto');
    expect(backupSection.parse({ jobs: 4 }).jobs).toBe(4);
    for (const bad of [0, 1.5, 65, 'two']) {
      const parsed = backupSection.safeParse({ jobs: bad });
      expect(parsed.error?.issues.map((i) => i.message)).toEqual([
        'expected "auto" or a whole number of parallel jobs from 1 to 64',
      ]);
    }
  });

  it('1 is one stream, whatever the disk', async () => {
    expect((await chooseDumpJobs(1, 10 ** 18)).jobs).toBe(1);
  });

  it('"auto" keeps one stream for a small database, and for one the temp disk cannot hold', async () => {
    expect((await chooseDumpJobs('auto', 50 * 1024 ** 2)).jobs).toBe(1);
    expect((await chooseDumpJobs('auto', 10 ** 18)).jobs).toBe(1);
  });

  it('an explicit job count the temp disk cannot hold is refused before anything starts', async () => {
    await expect(chooseDumpJobs(2, 10 ** 18)).rejects.toThrow(
      /backup.jobs is 2: a parallel dump of this .* database needs up to .* free in .*; .*set backup.jobs to 1/,
    );
    expect((await chooseDumpJobs(2, 1024 ** 2)).jobs).toBe(2);
  });
});
