import type { ECSClient } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { JOB_MANIFESTS } from '../../functions/manifests';
import { parseConfig } from '../../functions/shared/config/load';
import { startFargateTask } from '../../functions/shared/fargate-handoff';
import { taskOverrides, taskSize, taskSizeProblem } from '../../functions/shared/fargate-task';

const defaults = { cpu: 2048, memoryMiB: 4096, ephemeralStorageGiB: 21 };

describe('a run’s Fargate size and its RunTask overrides', () => {
  it("takes the target's fields over the job's defaults, field by field", () => {
    expect(taskSize(defaults, undefined)).toEqual(defaults);
    expect(taskSize(defaults, { ephemeralStorageGiB: 150 })).toEqual({
      ...defaults,
      ephemeralStorageGiB: 150,
    });
    expect(taskSize(defaults, { cpu: 4096, memoryMiB: 8192 })).toEqual({
      cpu: 4096,
      memoryMiB: 8192,
      ephemeralStorageGiB: 21,
    });
  });

  it.each([
    [{ cpu: 256, memoryMiB: 512 }, undefined],
    [{ cpu: 256, memoryMiB: 2048 }, undefined],
    [{ cpu: 256, memoryMiB: 4096 }, 'Fargate runs cpu 256 with memoryMiB 512, 1024 or 2048, not 4096'],
    [{ cpu: 2048, memoryMiB: 16384 }, undefined],
    [
      { cpu: 2048, memoryMiB: 4500 },
      'Fargate runs cpu 2048 with memoryMiB 4096 to 16384 in steps of 1024, not 4500',
    ],
    [
      { cpu: 4096, memoryMiB: 4096 },
      'Fargate runs cpu 4096 with memoryMiB 8192 to 30720 in steps of 1024, not 4096',
    ],
    [{ cpu: 8192, memoryMiB: 20480 }, undefined],
    [{ cpu: 16384, memoryMiB: 122880 }, undefined],
    [
      { cpu: 3000, memoryMiB: 4096 },
      'cpu 3000 is not a Fargate size (256, 512, 1024, 2048, 4096, 8192, 16384)',
    ],
  ])('checks cpu and memory against the pairs Fargate runs: %o', (size, problem) => {
    expect(taskSizeProblem({ ...size, ephemeralStorageGiB: 21 })).toBe(problem);
  });

  it("finds every job's default size one Fargate runs", () => {
    for (const manifest of Object.values(JOB_MANIFESTS))
      expect(taskSizeProblem(manifest.fargate), manifest.job).toBeUndefined();
  });

  it('overrides the command always, CPU and memory as a pair, disk alone, only where they differ', () => {
    const command = ['backup', '--target', 'big'];
    expect(taskOverrides('pgmaint', command, defaults, defaults)).toEqual({
      containerOverrides: [{ name: 'pgmaint', command }],
    });
    expect(taskOverrides('pgmaint', command, { ...defaults, memoryMiB: 8192 }, defaults)).toEqual({
      containerOverrides: [{ name: 'pgmaint', command }],
      cpu: '2048',
      memory: '8192',
    });
    expect(taskOverrides('pgmaint', command, { ...defaults, ephemeralStorageGiB: 200 }, defaults)).toEqual({
      containerOverrides: [{ name: 'pgmaint', command }],
      ephemeralStorage: { sizeInGiB: 200 },
    });
  });
});

describe('one size check for the loader, validate, synth and the hand-off', () => {
  const target = (sections: Record<string, unknown>) => ({
    url: 'postgres://pgmaint@127.0.0.1:1/app',
    ...sections,
  });

  it('refuses disk outside 21-200 GiB, with the cpu and memory problem in the same line', () => {
    expect(taskSizeProblem({ cpu: 256, memoryMiB: 4096, ephemeralStorageGiB: 300 })).toBe(
      'Fargate runs cpu 256 with memoryMiB 512, 1024 or 2048, not 4096; Fargate gives a task 21 to 200 GiB of ephemeral storage, not 300',
    );
  });

  it.each([
    [
      'a pair Fargate does not run',
      { restore: { fargate: { cpu: 4096, memoryMiB: 4096 } } },
      'targets.stage.restore.fargate: Fargate runs cpu 4096 with memoryMiB 8192 to 30720 in steps of 1024, not 4096',
    ],
    [
      "a cpu the job's default memory does not fit",
      { backup: { fargate: { cpu: 256 } } },
      "targets.stage.backup.fargate: Fargate runs cpu 256 with memoryMiB 512, 1024 or 2048, not 4096 (memoryMiB 4096 is the backup job's default)",
    ],
  ])(
    'the config loader refuses %s, naming target, job and the memory that cpu takes',
    (_, sections, line) => {
      expect(() => parseConfig({ targets: { stage: target(sections) } })).toThrow(`  - ${line}`);
    },
  );

  it('accepts a size Fargate runs, and a section without one', () => {
    expect(() =>
      parseConfig({
        targets: {
          stage: target({ backup: { fargate: { cpu: 256, memoryMiB: 2048 } }, restore: { runOn: 'lambda' } }),
        },
      }),
    ).not.toThrow();
  });

  it('the hand-off refuses before RunTask, naming target, job and what to set', async () => {
    const sent: unknown[] = [];
    const ecs = { send: async (command: unknown) => void sent.push(command) } as unknown as ECSClient;
    const settings = {
      cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/pgmaint',
      taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/pgmaint-backup:1',
      container: 'pgmaint',
      subnets: ['subnet-0abc'],
      securityGroups: [],
      assignPublicIp: 'DISABLED' as const,
    };
    await expect(
      startFargateTask(ecs, settings, {
        job: 'backup',
        target: 'big',
        event: {},
        size: { cpu: 1024, memoryMiB: 1024, ephemeralStorageGiB: 21 },
        runId: 'r1',
      }),
    ).rejects.toThrow(
      'the backup task for target "big" was not started:\n  - targets.big.backup.fargate: Fargate runs cpu 1024 with memoryMiB 2048 to 8192 in steps of 1024, not 1024',
    );
    expect(sent).toEqual([]);
  });
});
