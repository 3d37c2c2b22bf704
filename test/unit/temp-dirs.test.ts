import { existsSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTestTempRoot, testTempDir } from '../helpers/temp-dirs';

describe('test temp dirs', () => {
  it('puts every dir of a test file under one root in tmpdir(), removed with everything in it', () => {
    const config = testTempDir('config-');
    const store = testTempDir('store-');
    writeFileSync(join(store, 'object'), 'x');
    const root = dirname(config);
    expect(dirname(store)).toBe(root);
    expect(dirname(root)).toBe(tmpdir());
    expect(basename(root)).toMatch(/^pgmaint-test-.{6}$/);
    expect(basename(config)).toMatch(/^config-.{6}$/);

    removeTestTempRoot();
    expect(existsSync(root)).toBe(false);
    expect(dirname(testTempDir('config-'))).not.toBe(root);
  });

  it('refuses to remove its root once tmpdir() points elsewhere, and keeps it', () => {
    const root = dirname(testTempDir('config-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = mkdtempSync(join(tmpdir(), 'pgmaint-test-other-'));
    try {
      expect(() => removeTestTempRoot()).toThrow(`refusing to remove ${root}`);
      expect(existsSync(root)).toBe(true);
    } finally {
      const other = process.env.TMPDIR;
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      // The stand-in tmpdir is an empty dir this test made: removed without recursion.
      if (other) rmdirSync(other);
    }
    removeTestTempRoot();
    expect(existsSync(root)).toBe(false);
  });
});
