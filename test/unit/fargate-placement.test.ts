import { describe, expect, it } from 'vitest';
import {
  backupEstimate,
  DEFAULT_BACKUP_BYTES_PER_SECOND,
  measuredThroughput,
} from '../../functions/backup/estimate';
import type { BackupManifest } from '../../functions/shared/backup-catalog';
import { doesNotFit, fargateSettingsFromEnv } from '../../functions/shared/fargate-handoff';
import { parseFargateSettings } from '../../functions/shared/fargate-settings';
import { FARGATE_ENV } from '../../functions/shared/fargate-task';
import { runCli, writeConfig } from '../helpers/cli';

const MB = 1024 ** 2;
const manifest = (databaseSizeBytes: number, durationMs: number) =>
  ({ databaseSizeBytes, durationMs }) as BackupManifest;

describe('backup estimate', () => {
  it('takes the slowest of the last three backups, ignoring older ones', () => {
    const earlier = [
      manifest(100 * MB, 2_000),
      manifest(100 * MB, 4_000),
      manifest(100 * MB, 1_000),
      manifest(1, 1e9),
    ];
    expect(measuredThroughput(earlier)).toEqual({ bytesPerSecond: 25 * MB, backups: 3 });
  });

  it('falls back to the default rate, and says so, without an earlier backup', () => {
    const estimate = backupEstimate(2000 * MB, [], 'auto');
    expect(estimate.durationMs).toBe(
      Math.ceil((2000 * MB * 1.2 * 1000) / DEFAULT_BACKUP_BYTES_PER_SECOND) + 60_000,
    );
    expect(estimate.basis).toContain('the default: no earlier backup measured one');
    expect(estimate.tmpBytes).toBeUndefined();
  });

  it('needs the database size on local disk only when backup.jobs asks for a parallel dump', () => {
    expect(backupEstimate(1000 * MB, [], 4).tmpBytes).toBe(1000 * MB + 256 * MB);
    expect(backupEstimate(1000 * MB, [], 1).tmpBytes).toBeUndefined();
  });
});

describe('doesNotFit', () => {
  const left = { remainingMs: 600_000, tmpFreeBytes: 10 * 1024 * MB };
  it.each([
    [{ durationMs: 599_000, basis: 'b' }, undefined],
    [{ durationMs: 601_000, basis: 'b' }, /expected to take 10\.0 min, 10\.0 min left on Lambda \(b\)/],
    [{ tmpBytes: 11 * 1024 * MB, basis: 'b' }, /needs 11 GB of local disk, 10 GB free in/],
    [{ basis: 'nothing to estimate' }, undefined],
  ])('%j → %s', (estimate, expected) => {
    const reason = doesNotFit(estimate, left);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});

describe('Fargate settings', () => {
  const complete = {
    [FARGATE_ENV.cluster]: 'arn:aws:ecs:eu-west-1:1:cluster/c',
    [FARGATE_ENV.taskDefinition]: 'arn:aws:ecs:eu-west-1:1:task-definition/backup:1',
    [FARGATE_ENV.container]: 'backup',
    [FARGATE_ENV.subnets]: 'subnet-a, subnet-b',
  };

  it('reads FARGATE_ENV, without a public IP unless asked', () => {
    expect(fargateSettingsFromEnv(complete)).toEqual({
      settings: {
        cluster: 'arn:aws:ecs:eu-west-1:1:cluster/c',
        taskDefinition: 'arn:aws:ecs:eu-west-1:1:task-definition/backup:1',
        container: 'backup',
        subnets: ['subnet-a', 'subnet-b'],
        securityGroups: [],
        assignPublicIp: 'DISABLED',
      },
    });
  });

  it('names the variables that are missing', () => {
    const { [FARGATE_ENV.subnets]: _subnets, ...partial } = complete;
    expect(fargateSettingsFromEnv(partial)).toEqual({ missing: ['PGMAINT_FARGATE_SUBNETS'] });
  });

  it("reads one job's task from the stack's settings object, naming what is wrong", () => {
    const text = JSON.stringify({
      formatVersion: 1,
      cluster: 'c',
      subnets: ['s'],
      tasks: { backup: { taskDefinition: 'td', container: 'backup' } },
    });
    expect(parseFargateSettings(text, 'obj', 'backup')).toEqual({
      cluster: 'c',
      subnets: ['s'],
      securityGroups: [],
      assignPublicIp: 'DISABLED',
      taskDefinition: 'td',
      container: 'backup',
    });
    expect(() => parseFargateSettings(text, 'obj', 'reindex')).toThrow(
      /obj has no task for reindex \(tasks: backup\)/,
    );
    expect(() => parseFargateSettings('{"formatVersion":1,"subnets":[]}', 'obj', 'backup')).toThrow(
      /obj: cluster: .*\n.*obj: subnets/,
    );
  });
});

describe('pgmaint --event', () => {
  const config = writeConfig({
    backupBucket: 'file:///tmp/none',
    targets: { prod: { url: 'postgres://x@127.0.0.1:1/x' } },
  });

  it.each([
    [['--event', '{not json'], /--event: not JSON/],
    [['--event', '[1]'], /--event: expected a JSON object/],
    [
      ['--event', '{"drill":true}', '--drill'],
      /--event carries the whole event: put --drill in it \(as drill\)/,
    ],
    [
      ['--target', 'prod', '--event', '{"target":"staging"}'],
      /--target is "prod" but the event's target is "staging"/,
    ],
  ])('refuses %j', async (args, message) => {
    const out = await runCli(['restore', '--config', config, ...args]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
  });
});
