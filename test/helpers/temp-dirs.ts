import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const ROOT_PREFIX = 'pgmaint-test-';

/** This test file's temp root, made on first use (vitest isolates each file's modules). */
let root: string | undefined;

/**
 * A new directory for a test's scratch files (a config file, a store, a CDK app's output),
 * under one temp root per test file that temp-cleanup.ts removes after the file's last test:
 * a `npm test` run leaves nothing in /tmp.
 */
export function testTempDir(prefix: string): string {
  root ??= mkdtempSync(join(tmpdir(), ROOT_PREFIX));
  return mkdtempSync(join(root, prefix));
}

/** Removes this file's temp root, refusing any path that is not a mkdtemp directory of this helper's under tmpdir(). */
export function removeTestTempRoot(): void {
  const dir = root;
  if (!dir) return;
  const name = basename(dir);
  if (dirname(dir) !== tmpdir() || !name.startsWith(ROOT_PREFIX) || name.length <= ROOT_PREFIX.length)
    throw new Error(`refusing to remove ${dir}: not a test temp root this helper made under ${tmpdir()}`);
  rmSync(dir, { recursive: true, force: true });
  root = undefined;
}
