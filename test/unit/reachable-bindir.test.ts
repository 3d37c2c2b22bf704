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
    expect(reachableBindir(bindir, user)).toBe(bindir);
  });

  it('gives the cluster user binaries it can run from a private (0700) checkout, copying the install once', () => {
    const { bindir, installRoot } = fakeInstall(0o700);
    const chosen = reachableBindir(bindir, user, installRoot);
    expect(runsAs(chosen, user)).toBe(true);
    // Only as root does the cluster run as another user (postgres), who cannot enter the private directory.
    const copied = user !== undefined;
    expect(runsAs(bindir, user)).toBe(!copied);
    expect(chosen !== bindir).toBe(copied);
    if (copied) {
      // chosen is <copy>/native/bin: remove <copy>, and only when it is the helper's own directory.
      const copy = dirname(dirname(chosen));
      expect(dirname(copy)).toBe(tmpdir());
      expect(basename(copy)).toMatch(/^pgmaint-pg-install-/);
      roots.push(copy);
      expect(existsSync(join(chosen, '..', 'share', 'postgres.bki'))).toBe(true);
      expect(reachableBindir(bindir, user, installRoot)).toBe(chosen);
    }
  });
});
