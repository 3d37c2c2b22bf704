import { Aws, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { runTaskRequest, SELF_REPORTED_EXIT_CODES, type TaskSize } from '../functions/shared/fargate-task';
import { CONTAINER_NAME, type JobTask } from './job-task';
import { findingReference } from './policy-acknowledgements';

export interface FargateClusterProps {
  readonly vpc: ec2.IVpc;
  /**
   * CloudWatch Container Insights (per-task CPU, memory, storage and network metrics).
   * @default false - pgmaint's tasks are short batch runs: Insights' metrics cost more than the
   *   runs they would describe, and a run's outcome is already watched (the task-stopped alert,
   *   the JobSucceeded alarms)
   */
  readonly containerInsights?: boolean;
  readonly alertTopic: sns.ITopic;
  /** The key of a topic pgmaint did not create. @default - the topic's own key grant, if any */
  readonly alertTopicKey?: kms.IKey;
}

/**
 * The ECS cluster the jobs' Fargate tasks run in, and the alert when one of its tasks ends badly:
 * a non-zero exit code, or stopped by ECS (failed to start, out of memory, no capacity,
 * stopped by someone). The job's own FAILED alert says what went wrong inside the run; this one
 * also covers what the job cannot report itself.
 */
export class FargateCluster extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskStoppedRule: events.Rule;

  constructor(scope: Construct, id: string, props: FargateClusterProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: props.containerInsights
        ? ecs.ContainerInsights.ENABLED
        : ecs.ContainerInsights.DISABLED,
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ECS4',
      reason:
        "Container Insights is off by default for cost: pgmaint's tasks are short batch runs whose outcome is watched by the task-stopped alert and the JobSucceeded alarms; the containerInsights prop turns it on",
    });
    this.taskStoppedRule = new events.Rule(this, 'TaskStopped', {
      description: "pgmaint: a job's Fargate task exited non-zero or was stopped by ECS",
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [this.cluster.clusterArn],
          lastStatus: ['STOPPED'],
          $or: [
            // Exit codes the job reports itself (its own alert, or silent by design) are left to it:
            // one alert per failure.
            { containers: { exitCode: [{ 'anything-but': [...SELF_REPORTED_EXIT_CODES] }] } },
            // EssentialContainerExited is how every run ends, well or not (then the exit code
            // tells); every other code is ECS's doing: TaskFailedToStart, SpotInterruption,
            // ServiceSchedulerInitiated, UserInitiated, TerminationNotice.
            { stopCode: [{ 'anything-but': 'EssentialContainerExited' }] },
          ],
        },
      } as events.EventPattern,
    });
    // EventBridge publishes with a role of its own (the topic's key grant goes to the role, so
    // neither key policy needs a statement for EventBridge); only this account's rules assume it.
    const publisher = new iam.Role(this, 'TaskStoppedPublisher', {
      description: "pgmaint: the task-stopped rule's publish to the alert topic",
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    props.alertTopicKey?.grant(publisher, 'kms:Decrypt', 'kms:GenerateDataKey*');
    Validations.of(this.taskStoppedRule).acknowledge({
      id: 'Serverless::Serverless-EventBusDLQ',
      reason:
        'The only target is the alert topic (EventBridge retries it for 24 hours); a dead-letter queue of undeliverable alerts could only be watched by an alarm to that same topic',
    });
    const field = (path: string) => events.EventField.fromPath(path);
    const command = '$.detail.overrides.containerOverrides[0].command';
    this.taskStoppedRule.addTarget(
      new eventTargets.SnsTopic(props.alertTopic, {
        role: publisher,
        authorizeUsingRole: true,
        // The command is `<job> --target <target> ...` (taskCommand): job and target by position.
        message: events.RuleTargetInput.fromText(
          [
            `pgmaint ${field(`${command}[0]`)} ${field(`${command}[2]`)}: FAILED on Fargate, the task stopped: ${field('$.detail.stoppedReason')}`,
            '',
            `stop code:  ${field('$.detail.stopCode')}`,
            `exit code:  ${field('$.detail.containers[0].exitCode')} (${field('$.detail.containers[0].reason')})`,
            `task:       ${field('$.detail.taskArn')}`,
            `started by: ${field('$.detail.startedBy')}`,
            `logs:       the job's log group, streams fargate/${CONTAINER_NAME}/<task id>`,
          ].join('\n'),
        ),
      }),
    );
  }
}

export interface RunJobTaskProps extends schedulerTargets.ScheduleTargetBaseProps {
  readonly task: JobTask;
  readonly job: string;
  readonly target: string;
  /** The event the schedule would send the Lambda function (with `target`). */
  readonly event: Readonly<Record<string, unknown>>;
  /** The target's size of this job's task. */
  readonly size: TaskSize;
  /** The job's default size (its task definition's). */
  readonly defaults: TaskSize;
}

/**
 * A schedule's RunTask of one target's job, through EventBridge Scheduler's universal target
 * `aws-sdk:ecs:runTask`, whose Input is the whole RunTask request (AWS documents it so): the job's
 * task definition on Fargate in the configured subnets and security groups, the CLI command and
 * the target's size as the request's `overrides`, the same request the hand-off sends
 * (runTaskRequest). The templated ECS target has no field for overrides, and its Input is
 * documented only as the text "passed to the target".
 */
export class RunJobTask extends schedulerTargets.ScheduleTargetBase implements scheduler.IScheduleTarget {
  constructor(private readonly props: RunJobTaskProps) {
    super({ ...props, input: undefined }, `arn:${Aws.PARTITION}:scheduler:::aws-sdk:ecs:runTask`);
  }

  protected addTargetActionToRole(role: iam.IRole): void {
    const { task } = this.props;
    // RunTask on this task definition, PassRole of its two roles to ECS only.
    task.taskDefinition.grantRun(role);
    // The request tags the task with its job and target: tagging on create needs TagResource.
    const clusterTasks = clusterTasksArn(task.cluster);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:TagResource'],
        resources: [clusterTasks],
        conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${findingReference(role, clusterTasks)}]`,
      reason:
        "A task's ARN exists only once RunTask creates it: TagResource on this cluster's tasks, and only as part of RunTask (ecs:CreateAction), so the scheduled tasks carry their job and target",
    });
  }

  protected bindBaseTargetConfig(schedule: scheduler.ISchedule): scheduler.ScheduleTargetConfig {
    const { task, job, target, event, size, defaults } = this.props;
    const request = runTaskRequest(
      {
        cluster: task.cluster.clusterArn,
        taskDefinition: task.taskDefinition.taskDefinitionArn,
        container: CONTAINER_NAME,
        subnets: task.network.subnetIds,
        securityGroups: task.network.securityGroups.map((g) => g.securityGroupId),
        assignPublicIp: task.network.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
      { job, target, event, size, defaults, requestedBy: 'schedule' },
    );
    return {
      ...super.bindBaseTargetConfig(schedule),
      input: scheduler.ScheduleTargetInput.fromObject(request),
    };
  }
}

/** The ARNs of the tasks a cluster runs (a task's own ARN exists only once RunTask makes it). */
export function clusterTasksArn(cluster: ecs.ICluster): string {
  return Stack.of(cluster).formatArn({
    service: 'ecs',
    resource: 'task',
    resourceName: `${cluster.clusterName}/*`,
  });
}
