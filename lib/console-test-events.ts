import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { JOB_MANIFESTS } from '../functions/manifests';
import { JOBS, type JobName, type PgmaintConfig } from '../functions/shared/config/schema';

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

/** Named example events per job, for every target, from each job's manifest: what an operator picks in the console. */
export function testEvents(config: PgmaintConfig): Record<JobName, Record<string, Record<string, unknown>>> {
  const targets = Object.keys(config.targets);
  const events = Object.fromEntries(JOBS.map((job) => [job, {}])) as Record<
    JobName,
    Record<string, Record<string, unknown>>
  >;
  for (const job of JOBS)
    for (const target of targets) {
      const examples = JOB_MANIFESTS[job].consoleExamples(target, {
        others: targets.filter((t) => t !== target),
        targets: config.targets,
      });
      for (const [name, event] of Object.entries(examples)) events[job][name] = { target, ...event };
    }
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
