import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';

/** The config objects the stack's BucketDeployment writes, by file name, read from the staged assets. */
export function deployedConfigObjects(template: Template, outdir: string): Record<string, string> {
  // The config objects' deployment prunes its prefix but keeps fargate.json, written by its own.
  const deployments = Object.values(template.findResources('Custom::CDKBucketDeployment')).filter(
    (d) => d.Properties.Prune !== false,
  );
  expect(deployments).toHaveLength(1);
  const objects: Record<string, string> = {};
  const keys = (deployments[0]?.Properties.SourceObjectKeys ?? []) as string[];
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) {
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    for (const name of readdirSync(dir)) objects[name] = readFileSync(join(dir, name), 'utf8');
  }
  return objects;
}
