import { describe, expect, it } from 'vitest';
import { JOB_MANIFESTS } from '../../functions/manifests';
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
