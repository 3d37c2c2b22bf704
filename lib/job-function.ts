import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { clusterTasksArn } from './fargate-tasks';
import { grantJobAccess, type JobAccess } from './job-grants';
import { lambdaSizing, maxEventAge } from './job-settings';
import type { JobTask } from './job-task';
import { findingReference } from './policy-acknowledgements';

export interface JobFunctionProps extends JobAccess {
  /** The image every job shares; each function only changes the handler command. */
  readonly code: (handler: string, architecture: lambda.Architecture) => lambda.DockerImageCode;
  /** @default lambda.Architecture.X86_64 */
  readonly architecture?: lambda.Architecture;
  /** Networking, for databases that are not publicly reachable. @default - no VPC */
  readonly vpc?: lambda.FunctionProps['vpc'];
  /** @default - the VPC's private subnets when a VPC is given */
  readonly vpcSubnets?: lambda.FunctionProps['vpcSubnets'];
  /** @default - a new security group when a VPC is given */
  readonly securityGroups?: lambda.FunctionProps['securityGroups'];
  /**
   * Where Lambda sends a scheduled run it gave up on (after the last retry). When set, this
   * destination sends the run's one failure alert and the function itself publishes none.
   * @default - nowhere; the function alerts on every failed attempt
   */
  readonly onFailure?: lambda.IDestination;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/** The variables a run needs wherever it runs: its config object, the bucket, the topic, Powertools. */
export function jobEnvironment(access: JobAccess): Record<string, string> {
  return {
    ...access.configObjects.environment(access.manifest.job),
    PGMAINT_BACKUP_BUCKET: access.bucket.bucketName,
    PGMAINT_ALERT_TOPIC_ARN: access.alertTopic.topicArn,
    POWERTOOLS_SERVICE_NAME: 'pgmaint',
    POWERTOOLS_METRICS_NAMESPACE: 'pgmaint',
  };
}

/**
 * One job's Lambda function with exactly the access the job needs (grantJobAccess): its targets'
 * secrets, its prefixes in the bucket, the alert topic.
 */
export class JobFunction extends Construct {
  readonly function: lambda.DockerImageFunction;
  /** The job's log group: its function's, and its Fargate task's under the stream prefix `fargate`. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: JobFunctionProps) {
    super(scope, id);
    const { manifest } = props;
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      code: props.code(`functions/${manifest.job}/handler.handler`, architecture),
      description: `pgmaint ${manifest.job}: ${manifest.description}`,
      architecture,
      ...lambdaSizing(manifest),
      // A failed run is tried again after about 1 and 3 minutes (a network blip, a database
      // restart); the job's advisory lock refuses a try while an earlier run still works.
      retryAttempts: manifest.lambda.retryAttempts,
      maxEventAge: maxEventAge(manifest),
      onFailure: props.onFailure,
      // A trace shows where a slow run spent its time (secret fetch, connect, dump, upload).
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.vpc ? props.securityGroups : undefined,
      environment: {
        ...jobEnvironment(props),
        ...(props.onFailure ? { PGMAINT_FAILURE_ALERTS: 'destination' } : {}),
      },
    });
    if (props.vpc && this.function.role)
      Validations.of(this.function.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          "AWSLambdaVPCAccessExecutionRole only lets Lambda manage the function's network interfaces in the VPC (and write logs); a hand-written copy would grant the same",
      });
    // The function must not start with a pointer to an object the deployment has not written yet.
    this.function.node.addDependency(props.configObjects.deployment);
    grantJobAccess(this.function, props);
  }

  /**
   * Lets this function hand a run to the job's Fargate task (the `auto` hand-off, the console's
   * and CLI's "run on Fargate"): where and how to start it in its environment (FARGATE_ENV), and
   * RunTask on that task definition in that cluster only, passing only that task's two roles.
   */
  handOffTo(task: JobTask): void {
    for (const [name, value] of Object.entries(task.handOffEnvironment()))
      this.function.addEnvironment(name, value);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RunOwnFargateTask',
        actions: ['ecs:RunTask'],
        resources: [task.taskDefinition.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': task.cluster.clusterArn } },
      }),
    );
    // RunTask tags the task with its job and target: tagging on create needs TagResource on it.
    const clusterTasks = clusterTasksArn(task.cluster);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagOwnFargateTasks',
        actions: ['ecs:TagResource'],
        resources: [clusterTasks],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      }),
    );
    Validations.of(this.function).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${findingReference(this.function, clusterTasks)}]`,
      reason:
        "A task's ARN exists only once RunTask creates it: TagResource on this cluster's tasks, and only as part of RunTask (ecs:CreateAction), so the tasks carry their job and target",
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassOwnFargateTaskRoles',
        actions: ['iam:PassRole'],
        resources: [task.taskRole.roleArn, task.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
  }
}
