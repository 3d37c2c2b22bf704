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

describe('pgmaint validate refuses a Fargate size RunTask would refuse', () => {
  it('names the target, the job and the memory that cpu takes', async () => {
    const out = await runCli([
      'validate',
      '--config',
      writeConfig({
        targets: {
          prod: {
            url: 'postgres://pgmaint@127.0.0.1:1/nowhere',
            backup: { runOn: 'fargate', fargate: { cpu: 512, memoryMiB: 512, ephemeralStorageGiB: 21 } },
          },
        },
      }),
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(
      '  - targets.prod.backup.fargate: Fargate runs cpu 512 with memoryMiB 1024 to 4096 in steps of 1024, not 512\n',
    );
  });
});

describe('pgmaint validate says where each schedule runs', () => {
  it('lists lambda, fargate and auto (the default) per target and job, in text and JSON', async () => {
    const path = writeConfig({
      targets: {
        prod: {
          url: 'postgres://pgmaint@127.0.0.1:1/nowhere',
          backup: { schedule: 'cron(0 2 * * ? *)', runOn: 'fargate', fargate: { ephemeralStorageGiB: 100 } },
          retention: { schedule: 'cron(0 3 * * ? *)', runOn: 'lambda' },
          health: { schedule: 'rate(15 minutes)' },
        },
      },
    });
    const out = await runCli(['validate', '--config', path]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('backup         cron(0 2 * * ? *) (UTC), on Fargate\n');
    expect(out.stdout).toContain('retention      cron(0 3 * * ? *) (UTC), on Lambda\n');
    expect(out.stdout).toContain(
      'health         rate(15 minutes) (UTC), on Lambda, or Fargate when it will not fit\n',
    );
    const json = await runCli(['validate', '--config', path, '--json']);
    const { schedules } = JSON.parse(json.stdout) as { schedules: Array<{ job: string; runsOn: string }> };
    expect(Object.fromEntries(schedules.map((s) => [s.job, s.runsOn]))).toEqual({
      backup: 'fargate',
      retention: 'lambda',
      health: 'auto',
    });
  });
});
