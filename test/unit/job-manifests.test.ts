import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../functions/jobs';
import { JOB_MANIFESTS } from '../../functions/manifests';
import { parseConfig } from '../../functions/shared/config/load';
import { JOBS } from '../../functions/shared/config/schema';
import type { AnyJobDefinition } from '../../functions/shared/job';
import { testEvents } from '../../lib/console-test-events';
import { scheduledInvocations } from '../../lib/job-settings';

const config = parseConfig({
  targets: {
    prod: {
      url: 'postgres://u@db/prod',
      backup: { schedule: 'cron(0 2 * * ? *)' },
      retention: { schedule: 'rate(1 hour)', rules: [{ table: 'logs', column: 'at', olderThan: '30 days' }] },
      reindex: { schedule: 'cron(0 4 ? * SUN *)' },
      health: { schedule: 'rate(15 minutes)' },
      restore: { drillSchedule: 'cron(0 5 ? * SAT *)' },
    },
    staging: { url: 'postgres://u@db/staging', backup: {} },
  },
});

let definitions: AnyJobDefinition[] = [];
beforeAll(async () => {
  definitions = await Promise.all(COMMANDS.map((c) => c.load()));
});

function optionsSchema(job: string) {
  const definition = definitions.find((d) => d.name === job);
  if (!definition) throw new Error(`no job definition named ${job}`);
  return definition.options;
}

/** The Lambda event minus `target` is what the options schema validates (runJob does the same). */
function parseEvent(job: string, event: Record<string, unknown>) {
  const { target, ...options } = event;
  expect(typeof target).toBe('string');
  return optionsSchema(job).safeParse(options);
}

describe('job manifests', () => {
  it('declare every job, each under its own name', () => {
    expect(Object.keys(JOB_MANIFESTS).sort()).toEqual([...JOBS].sort());
    for (const [job, manifest] of Object.entries(JOB_MANIFESTS)) expect(manifest.job).toBe(job);
  });

  it("send schedule events that the job's options schema accepts", () => {
    const invocations = scheduledInvocations(config);
    expect(invocations.map((i) => `${i.target} ${i.name}`)).toEqual([
      'prod backup',
      'prod retention',
      'prod reindex',
      'prod health',
      'prod restore-drill',
    ]);
    for (const invocation of invocations) {
      const parsed = parseEvent(invocation.job, invocation.input);
      expect(parsed.error?.message, `${invocation.job} ${invocation.name}`).toBeUndefined();
    }
    expect(invocations.find((i) => i.name === 'restore-drill')?.input).toEqual({
      target: 'prod',
      drill: true,
    });
  });

  it("offer console examples that the job's options schema accepts, for every target", () => {
    const events = testEvents(config);
    let count = 0;
    for (const job of JOBS)
      for (const [name, event] of Object.entries(events[job])) {
        count++;
        const parsed = parseEvent(job, event);
        expect(parsed.error?.message, `${job} ${name}`).toBeUndefined();
      }
    // 2 targets × (backup, health, retention, reindex, 2 restores) + staging refreshed from prod
    // and prod from staging (both back up).
    expect(count).toBe(14);
    expect(events.restore['refresh-staging-from-prod']).toEqual({
      target: 'staging',
      from: 'prod',
      backup: 'latest',
    });
  });

  it('the schema check catches a payload the job would refuse', () => {
    expect(parseEvent('backup', { target: 'prod', dryRun: true }).success).toBe(false);
    expect(parseEvent('restore', { target: 'prod', drill: true, replace: true }).success).toBe(false);
  });

  it('size Fargate tasks within what Fargate offers', () => {
    for (const manifest of Object.values(JOB_MANIFESTS)) {
      const { cpu, memoryMiB, ephemeralStorageGiB } = manifest.fargate;
      expect(memoryMiB, manifest.job).toBeGreaterThanOrEqual(cpu / 2);
      expect(ephemeralStorageGiB, manifest.job).toBeGreaterThanOrEqual(21);
      expect(ephemeralStorageGiB, manifest.job).toBeLessThanOrEqual(200);
    }
  });
});
