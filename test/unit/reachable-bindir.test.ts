import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterUser, reachableBindir } from '../helpers/local-postgres';

/**
 * Where the demo and the test clusters run PostgreSQL from. As root the cluster runs as the
 * postgres user, which cannot enter a checkout cloned into `mktemp -d` (mode 0700); as anyone
 * else the cluster runs as ourselves, who can. A stand-in install (a `postgres` script, a share/)
 * keeps this fast: what matters is which directory comes back and whether the cluster's user can run it.
 */
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function fakeInstall(mode: number): { bindir: string; installRoot: string } {
  const root = mkdtempSync(join(tmpdir(), 'pgmaint-bindir-test-'));
  roots.push(root);
  chmodSync(root, mode);
  const installRoot = join(root, 'native');
  mkdirSync(join(installRoot, 'bin'), { recursive: true });
  mkdirSync(join(installRoot, 'share'));
  writeFileSync(join(installRoot, 'share', 'postgres.bki'), '');
  writeFileSync(join(installRoot, 'bin', 'postgres'), '#!/bin/sh\necho "postgres (PostgreSQL) 15"\n', {
    mode: 0o755,
  });
  chmodSync(installRoot, 0o755);
  return { bindir: join(installRoot, 'bin'), installRoot };
}

function runsAs(bindir: string, user: ReturnType<typeof clusterUser>): boolean {
  return spawnSync(join(bindir, 'postgres'), ['--version'], { ...user }).status === 0;
}

describe('reachableBindir', () => {
  const user = clusterUser();

  it('runs binaries the cluster user can reach where they are', () => {
    const { bindir } = fakeInstall(0o755);
    const chosen = reachableBindir(bindir, user);
    expect(chosen.bindir).toBe(bindir);
    chosen.release();
    expect(existsSync(join(bindir, 'postgres'))).toBe(true);
  });

  it('gives the cluster user binaries it can run from a private (0700) checkout, one copy for every cluster, removed after the last', () => {
    const { bindir, installRoot } = fakeInstall(0o700);
    const first = reachableBindir(bindir, user, installRoot);
    expect(runsAs(first.bindir, user)).toBe(true);
    // Only as root does the cluster run as another user (postgres), who cannot enter the private directory.
    const copied = user !== undefined;
    expect(runsAs(bindir, user)).toBe(!copied);
    expect(first.bindir !== bindir).toBe(copied);
    if (!copied) return;
    // first.bindir is <copy>/native/bin, <copy> a directory of the helper's own under tmpdir().
    const copy = dirname(dirname(first.bindir));
    expect(dirname(copy)).toBe(tmpdir());
    expect(basename(copy)).toMatch(/^pgmaint-pg-install-/);
    roots.push(copy);
    expect(existsSync(join(first.bindir, '..', 'share', 'postgres.bki'))).toBe(true);

    const second = reachableBindir(bindir, user, installRoot);
    expect(second.bindir).toBe(first.bindir);
    first.release();
    first.release(); // twice is once: the second cluster still runs from the copy
    expect(runsAs(second.bindir, user)).toBe(true);
    second.release();
    expect(existsSync(copy)).toBe(false);
    // The install itself is untouched, and a later cluster gets a fresh copy.
    expect(existsSync(join(bindir, 'postgres'))).toBe(true);
    const third = reachableBindir(bindir, user, installRoot);
    roots.push(dirname(dirname(third.bindir)));
    expect(runsAs(third.bindir, user)).toBe(true);
    third.release();
    expect(existsSync(dirname(dirname(third.bindir)))).toBe(false);
  });
});
