import { Fn, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FARGATE_ENV } from '../functions/shared/fargate-task';
import { METRICS_ENV } from '../functions/shared/metrics';
import { CLI_ENTRYPOINT } from './image';
import { jobEnvironment } from './job-function';
import { grantJobAccess, type JobAccess } from './job-grants';

/** Where the job's tasks run: awsvpc in these subnets with these security groups. */
export interface TaskNetwork {
  readonly subnetIds: readonly string[];
  readonly securityGroups: readonly ec2.ISecurityGroup[];
  /** @default false */
  readonly assignPublicIp?: boolean;
}

export interface JobTaskProps extends JobAccess {
  readonly cluster: ecs.ICluster;
  readonly image: (architecture: lambda.Architecture) => ecs.ContainerImage;
  /** @default lambda.Architecture.X86_64 */
  readonly architecture?: lambda.Architecture;
  /** The job's log group (its Lambda function's): the task writes there under the stream prefix `fargate`. */
  readonly logGroup: logs.ILogGroup;
  readonly network: TaskNetwork;
}

/** The container's name in every job's task definition. */
export const CONTAINER_NAME = 'pgmaint';
/** Task log streams: `fargate/pgmaint/<task id>`, beside the function's own in the job's log group. */
export const TASK_LOG_STREAM_PREFIX = 'fargate';

/**
 * One job's Fargate task definition: the functions' image started as the `pgmaint` CLI, sized by
 * the job's manifest (a target's own size travels as RunTask overrides), logging to the job's log
 * group, with a task role holding exactly the job's Lambda grants and an execution role that
 * only pulls the image and writes the logs.
 */
export class JobTask extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly taskRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly cluster: ecs.ICluster;
  readonly network: TaskNetwork;

  constructor(scope: Construct, id: string, props: JobTaskProps) {
    super(scope, id);
    const { manifest } = props;
    this.cluster = props.cluster;
    this.network = props.network;
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const ecsTasks = new iam.ServicePrincipal('ecs-tasks.amazonaws.com');
    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `pgmaint ${manifest.job} on Fargate: the same access as the ${manifest.job} function`,
      assumedBy: ecsTasks,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: `pgmaint ${manifest.job} on Fargate: pull the image, write the logs`,
      assumedBy: ecsTasks,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: manifest.fargate.cpu,
      memoryLimitMiB: manifest.fargate.memoryMiB,
      ephemeralStorageGiB: manifest.fargate.ephemeralStorageGiB,
      runtimePlatform: {
        cpuArchitecture:
          architecture === lambda.Architecture.ARM_64
            ? ecs.CpuArchitecture.ARM64
            : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
    });
    this.taskDefinition.addContainer('Container', {
      containerName: CONTAINER_NAME,
      image: props.image(architecture),
      entryPoint: [...CLI_ENTRYPOINT],
      // Without a command the CLI prints its usage; every run gives `<job> --target T` (taskCommand).
      command: [manifest.job, '--help'],
      workingDirectory: '/var/task',
      essential: true,
      // The function's variables, and EMF metrics on stdout: the log group turns them into the
      // same JobSucceeded datapoints a Lambda run's give, so the "no successful run" alarms count it.
      environment: { ...jobEnvironment(props), [METRICS_ENV]: 'emf' },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: props.logGroup,
        streamPrefix: TASK_LOG_STREAM_PREFIX,
        // A long run's lines must not block the job when CloudWatch Logs is slow.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
      // pg_dump and pg_restore are children of the CLI: a stop signal must reach the CLI (it stops
      // them and cleans up) and orphans must be reaped.
      linuxParameters: new ecs.LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      readonlyRootFilesystem: false,
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ECS2',
      reason:
        "The variables hold no secret: the config object's S3 pointer and hash, the bucket and topic names, Powertools settings; credentials come from Secrets Manager at run time",
    });
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions; the image pull itself is scoped to the asset repository',
    });
    // The task must not start with a pointer to an object the deployment has not written yet.
    this.taskDefinition.node.addDependency(props.configObjects.deployment);
    grantJobAccess(this.taskRole, props);
  }

  /** What the job's Lambda function needs to start this task (see functions/shared/fargate-task.ts). */
  handOffEnvironment(): Record<string, string> {
    return {
      [FARGATE_ENV.cluster]: this.cluster.clusterArn,
      [FARGATE_ENV.taskDefinition]: this.taskDefinition.taskDefinitionArn,
      [FARGATE_ENV.container]: CONTAINER_NAME,
      [FARGATE_ENV.subnets]: this.network.subnetIds.join(','),
      [FARGATE_ENV.securityGroups]: Fn.join(
        ',',
        this.network.securityGroups.map((g) => g.securityGroupId),
      ),
      [FARGATE_ENV.assignPublicIp]: this.network.assignPublicIp ? 'ENABLED' : 'DISABLED',
    };
  }
}
