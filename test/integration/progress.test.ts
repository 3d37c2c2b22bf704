import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, createRdsSecret } from '../helpers/aws';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, incompressibleTableSql, type TestDatabase } from '../helpers/database';

/** The `{"progress":{...}}` tails of the structured progress lines on stderr. */
function progressLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.includes('{"progress":'))
    .map(
      (line) =>
        (JSON.parse(line.slice(line.indexOf('{"progress":'))) as { progress: Record<string, unknown> })
          .progress,
    );
}

describe('progress on stderr', () => {
  let db: TestDatabase;
  let configPath: string;

  beforeAll(async () => {
    db = await createTestDatabase('progress');
    // ~12 MB of incompressible bytes: a dump that lasts long enough for several ticks.
    await db.sql(`
      ${incompressibleTableSql('blobs', 12_000)}
      create table events (id bigserial primary key, created_at timestamptz not null);
      create index on events (created_at);
      insert into events (created_at) select now() - interval '400 days' from generate_series(1, 30000);
    `);
    const secret = await createRdsSecret(db.settings);
    configPath = writeConfig({
      backupBucket: await createBucket(),
      targets: {
        prod: {
          secret,
          retention: { rules: [{ table: 'events', column: 'created_at', olderThan: '90 days' }] },
        },
      },
    });
  }, 180_000);
  afterAll(async () => db?.drop());

  it('a backup with stderr not a terminal writes periodic structured lines: phase, bytes, MB/s', async () => {
    const out = await runCli(['backup', '--config', configPath, '--target', 'prod', '--json'], process.env, {
      isTTY: false,
      progressIntervalMs: 50,
    });
    expect(out.code, out.stderr).toBe(0);
    const lines = progressLines(out.stderr);
    const dump = lines.filter((l) => l.phase === 'dump');
    expect(dump.length, out.stderr).toBeGreaterThanOrEqual(2);
    for (const line of dump) {
      expect(line.bytes).toEqual(expect.any(Number));
      expect(line.MBps).toEqual(expect.any(Number));
      expect(line.elapsedMs).toEqual(expect.any(Number));
    }
    const bytes = dump.map((l) => l.bytes as number);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(bytes.at(-1)).toBeGreaterThan(0);
    expect(bytes.at(-1)).toBeLessThanOrEqual(JSON.parse(out.stdout).bytes);
    expect(out.stderr).toMatch(/^backup prod: dump \d+(\.\d)? [kM]?B, [\d.]+ MB\/s \(/m);
    expect(out.stderr).not.toContain('\r'); // no terminal control in a log
  });

  it('--quiet writes no progress at all', async () => {
    const out = await runCli(
      ['backup', '--config', configPath, '--target', 'prod', '--json', '--quiet'],
      process.env,
      { isTTY: false, progressIntervalMs: 50 },
    );
    expect(out.code, out.stderr).toBe(0);
    expect(progressLines(out.stderr)).toEqual([]);
    expect(out.stderr).toContain('backup prod: starting'); // the log itself stays
    const tty = await runCli(
      ['backup', '--config', configPath, '--target', 'prod', '--json', '--quiet'],
      process.env,
      { isTTY: true, progressIntervalMs: 50 },
    );
    expect(tty.code).toBe(0);
    expect(tty.stderr).not.toContain('\r');
  });

  it('on a terminal, one line redrawn in place instead of log lines', async () => {
    const out = await runCli(['backup', '--config', configPath, '--target', 'prod', '--json'], process.env, {
      isTTY: true,
      progressIntervalMs: 50,
    });
    expect(out.code, out.stderr).toBe(0);
    expect(progressLines(out.stderr)).toEqual([]);
    const redraws = out.stderr.split('\r\x1b[2K').filter((s) => s.startsWith('backup prod: dump'));
    expect(redraws.length).toBeGreaterThanOrEqual(2);
    expect(redraws.some((s) => /MB\/s/.test(s))).toBe(true);
    // What is left visible when a line scrolls is a log line, never the progress: it is cleared first.
    for (const line of out.stderr.split('\n')) {
      expect(line.split('\r\x1b[2K').at(-1)).not.toMatch(/^backup prod: (dump|finishing) /);
    }
  });

  it('retention shows rows deleted for the rule it works on', async () => {
    const out = await runCli(
      ['retention', '--config', configPath, '--target', 'prod', '--json'],
      process.env,
      {
        isTTY: false,
        progressIntervalMs: 20,
      },
    );
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).totalRowsDeleted).toBe(30_000);
    const lines = progressLines(out.stderr).filter((l) => l.phase === 'deleting from');
    expect(lines.length, out.stderr).toBeGreaterThanOrEqual(1);
    expect(lines.every((l) => l.item === 'public.events' && typeof l.rows === 'number')).toBe(true);
    expect(Math.max(...lines.map((l) => l.rows as number))).toBeGreaterThan(0);
  });
});
