import { ArnFormat, Duration, Fn, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface FailureAlertsProps {
  readonly code: (handler: string, architecture: lambda.Architecture) => lambda.DockerImageCode;
  /** @default lambda.Architecture.X86_64 */
  readonly architecture?: lambda.Architecture;
  readonly alertTopic: sns.ITopic;
  /** The key of a topic pgmaint did not create. @default - the topic's own key grant, if any */
  readonly alertTopicKey?: kms.IKey;
}

/**
 * The on-failure destination of the job functions: Lambda hands it a run after the last retry,
 * and it publishes that run's one FAILED alert (functions/failure-alert). Crashes, timeouts and
 * out-of-memory kills arrive the same way, so every kind of failure alerts exactly once.
 */
export class FailureAlerts extends Construct {
  readonly function: lambda.DockerImageFunction;
  private readonly jobFunctions: string[] = [];
  private readonly arn: string;

  constructor(scope: Construct, id: string, props: FailureAlertsProps) {
    super(scope, id);
    // A name known at synth: each job's role may then invoke it without the job functions and
    // this one (whose environment names them) depending on each other in a cycle.
    const functionName = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.arn = Stack.of(this).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      functionName,
      code: props.code('functions/failure-alert/handler.handler', architecture),
      description: 'pgmaint: the one FAILED alert of a scheduled run Lambda gave up on',
      architecture,
      memorySize: 256,
      timeout: Duration.seconds(30),
      // Lambda invokes a destination asynchronously: a failed publish is tried twice more.
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      // Last resort when even this function cannot publish: Lambda's raw record to the topic.
      onFailure: new destinations.SnsDestination(props.alertTopic),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS }),
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        PGMAINT_ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        PGMAINT_JOB_FUNCTIONS: Lazy.string({ produce: () => Fn.join(',', this.jobFunctions) }),
        POWERTOOLS_SERVICE_NAME: 'pgmaint',
      },
    });
    props.alertTopic.grantPublish(this.function);
    props.alertTopicKey?.grant(this.function, 'kms:Decrypt', 'kms:GenerateDataKey*');
  }

  /** The destination for one job's function; its role may invoke this function and nothing else. */
  destinationFor(job: string): lambda.IDestination {
    const arn = this.arn;
    return {
      bind: (_scope, target) => {
        this.jobFunctions.push(`${job}=${target.functionName}`);
        target.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'SendFailureRecords',
            actions: ['lambda:InvokeFunction'],
            resources: [arn],
          }),
        );
        return { destination: arn };
      },
    };
  }
}
