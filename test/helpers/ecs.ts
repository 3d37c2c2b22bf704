import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { FARGATE_ENV } from '../../functions/shared/fargate-task';
import { uniqueName } from './aws';

export interface FargateStage {
  readonly cluster: string;
  /** Task definition ARN per job. */
  readonly taskDefinitions: Readonly<Record<string, string>>;
  readonly subnet: string;
  readonly securityGroup: string;
  /** FARGATE_ENV as the deployment sets it on `job`'s function. */
  env(job: string): Record<string, string>;
}

/**
 * What the stack deploys for Fargate, in the emulator: a cluster, one awsvpc task definition per
 * job (container named after the job), and the default VPC's first subnet and security group.
 */
export async function createFargateStage(jobs: readonly string[]): Promise<FargateStage> {
  const ecs = new ECSClient({});
  const ec2 = new EC2Client({});
  const cluster = (await ecs.send(new CreateClusterCommand({ clusterName: uniqueName('pgmaint') }))).cluster
    ?.clusterArn as string;
  const taskDefinitions: Record<string, string> = {};
  for (const job of jobs) {
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: uniqueName(`pgmaint-${job}`),
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '1024',
        memory: '2048',
        // Container-level cpu and memory: moto's RunTask sums them (the stack's may leave them to the task).
        containerDefinitions: [
          { name: job, image: 'pgmaint:test', essential: true, cpu: 1024, memory: 2048 },
        ],
      }),
    );
    taskDefinitions[job] = registered.taskDefinition?.taskDefinitionArn as string;
  }
  const subnet = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets?.[0]?.SubnetId;
  const securityGroup = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.[0]?.GroupId;
  if (!subnet || !securityGroup) throw new Error('the emulator has no default VPC subnet or security group');
  return {
    cluster,
    taskDefinitions,
    subnet,
    securityGroup,
    env: (job) => ({
      [FARGATE_ENV.cluster]: cluster,
      [FARGATE_ENV.taskDefinition]: taskDefinitions[job] ?? '',
      [FARGATE_ENV.container]: job,
      [FARGATE_ENV.subnets]: subnet,
      [FARGATE_ENV.securityGroups]: securityGroup,
      [FARGATE_ENV.assignPublicIp]: 'DISABLED',
    }),
  };
}
