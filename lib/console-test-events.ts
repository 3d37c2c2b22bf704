import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { JobName, PgmaintConfig } from '../functions/shared/config/schema';

/** The registry the Lambda console keeps shareable test events in. */
export const TEST_EVENT_REGISTRY = 'lambda-testevent-schemas';

export interface ConsoleTestEventsProps {
  readonly config: PgmaintConfig;
  readonly functions: Readonly<Record<JobName, lambda.IFunction>>;
  /**
   * Create the registry. It exists once anyone saved a shareable test event in this account and
   * region; then set false. @default true
   */
  readonly createRegistry?: boolean;
}

/** Named example events per job, for every target: what an operator picks in the console. */
export function testEvents(config: PgmaintConfig): Record<JobName, Record<string, Record<string, unknown>>> {
  const targets = Object.keys(config.targets);
  const events: Record<JobName, Record<string, Record<string, unknown>>> = {
    backup: {},
    restore: {},
    retention: {},
    reindex: {},
    health: {},
  };
  for (const target of targets) {
    events.backup[`${target}-backup-now`] = { target };
    events.health[`${target}-health-now`] = { target };
    events.retention[`${target}-retention-dry-run`] = { target, dryRun: true };
    events.reindex[`${target}-reindex-dry-run`] = { target, dryRun: true };
    events.restore[`${target}-restore-latest-into-new-database`] = { target, backup: 'latest' };
    events.restore[`${target}-restore-drill`] = { target, drill: true };
  }
  // Refresh each other target from each one that backs up (prod → staging is the everyday case),
  // into a new database: the operator adds replace + confirm deliberately, never by picking.
  for (const from of targets.filter((t) => config.targets[t]?.backup))
    for (const target of targets.filter((t) => t !== from))
      events.restore[`refresh-${target}-from-${from}`] = { target, from, backup: 'latest' };
  return events;
}

/**
 * Shareable test events in the Lambda console for each function (backup now, health now, retention
 * and reindex dry runs, restore latest into a new database, refresh staging from prod), stored as
 * the console stores them: an OpenAPI schema per function in the `lambda-testevent-schemas` registry.
 */
export class ConsoleTestEvents extends Construct {
  constructor(scope: Construct, id: string, props: ConsoleTestEventsProps) {
    super(scope, id);
    let registry: eventschemas.CfnRegistry | undefined;
    if (props.createRegistry ?? true) {
      registry = new eventschemas.CfnRegistry(this, 'Registry', {
        registryName: TEST_EVENT_REGISTRY,
        description: 'Lambda console shareable test events',
      });
    }
    const events = testEvents(props.config);
    for (const [job, examples] of Object.entries(events) as Array<[JobName, Record<string, unknown>]>) {
      const schema = new eventschemas.CfnSchema(this, `${job}Events`, {
        registryName: TEST_EVENT_REGISTRY,
        schemaName: `_${props.functions[job].functionName}-schema`,
        type: 'OpenApi3',
        content: JSON.stringify({
          openapi: '3.0.0',
          info: { version: '1.0.0', title: 'Event' },
          paths: {},
          components: {
            schemas: {
              Event: { type: 'object', required: ['target'], properties: { target: { type: 'string' } } },
            },
            examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
          },
        }),
      });
      if (registry) schema.addResourceDependency(registry);
    }
  }
}
