import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../helpers/cli';

describe('pgmaint validate refuses what would fail every run', () => {
  it('exits 2 listing every problem with its path, without touching a database', async () => {
    const out = await runCli([
      'validate',
      '--config',
      writeConfig({
        targets: {
          prod: {
            url: 'postgres://pgmaint@127.0.0.1:1/nowhere',
            timezone: 'BST',
            health: {
              schedule: 'rate(15 minutes)',
              thresholds: { backup_freshnes: { warning: '25 hours' }, backup_freshness: { critical: '25h' } },
            },
            retention: {
              rules: [{ table: 'audit_logs; drop table users', column: 'created_at', olderThan: '90 days' }],
            },
          },
        },
      }),
    ]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    const lines = out.stderr.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ {2}- targets\.prod\.timezone: "BST" is an abbreviation.*"Europe\/London"/),
        expect.stringMatching(/^ {2}- targets\.prod\.health\.thresholds\.backup_freshnes: unknown check/),
        expect.stringMatching(
          /^ {2}- targets\.prod\.health\.thresholds\.backup_freshness\.critical: .*\(units: ms, seconds, minutes, hours, days, weeks\) or null, got "25h"$/,
        ),
        expect.stringMatching(
          /^ {2}- targets\.prod\.retention\.rules\[0\]\.table: "audit_logs; drop table users" is not a table name: write \[schema\.\]table/,
        ),
      ]),
    );
  });
});
