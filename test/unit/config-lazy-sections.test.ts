import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { lazySection } from '../../functions/shared/config/fields';
import { formatIssues } from '../../functions/shared/config/issues';

/** A section like the jobs' (strict fields, a refinement, a default), built eagerly or lazily. */
const buildSection = () =>
  z
    .strictObject({
      days: z.number({ error: 'expected a whole number of days' }).int().min(1).default(30),
      schedule: z.string().refine((text) => text.startsWith('rate('), { error: 'expected rate(...)' }),
    })
    .partial({ schedule: true });

/** A target that checks its own fields after its sections, as targetSchema does. */
const targetWith = (section: z.ZodType) =>
  z.strictObject({ url: z.string().optional(), backup: section.optional() }).superRefine((target, ctx) => {
    if (target.url === undefined) ctx.addIssue({ code: 'custom', message: 'give a url' });
  });

const problems = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : formatIssues(parsed.error.issues);
};

describe('config sections built only when a config has them', () => {
  it('never builds a section the config leaves out, and builds one the first time it appears', () => {
    let builds = 0;
    const section = lazySection(() => {
      builds++;
      return buildSection();
    });
    const target = targetWith(section);
    expect(target.parse({ url: 'postgres://h/db' })).toEqual({ url: 'postgres://h/db' });
    expect(builds).toBe(0);
    expect(target.parse({ url: 'postgres://h/db', backup: {} })).toEqual({
      url: 'postgres://h/db',
      backup: { days: 30 },
    });
    target.parse({ url: 'postgres://h/db', backup: { days: 7 } });
    expect(builds).toBe(1);
  });

  it.each([
    ['a wrong type', { backup: { days: 'seven' } }],
    ['an unknown field', { url: 'u', backup: { dayz: 7 } }],
    [
      'a failed refinement, after which the target still checks its own fields',
      { backup: { schedule: 'x' } },
    ],
    ['a failed check', { url: 'u', backup: { days: 0 } }],
    ['no object at all', { url: 'u', backup: 'weekly' }],
  ])('reports %s exactly as the eagerly built section does', (_, config) => {
    const eager = problems(targetWith(buildSection()), config);
    expect(eager.length).toBeGreaterThan(0);
    expect(problems(targetWith(lazySection(buildSection)), config)).toEqual(eager);
  });
});
