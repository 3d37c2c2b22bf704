import { Duration, RemovalPolicy, Stack, Tags, TimeZone } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { JOB_MANIFESTS } from '../functions/manifests';
import { JOBS, type JobName, type PgmaintConfig } from '../functions/shared/config/schema';
import { jobPlacement, targetSizeProblems } from '../functions/shared/fargate-task';
import { warnWithoutAbortRule } from './bucket-lifecycle-warning';
import { ConfigObjects } from './config-objects';
import { ConsoleTestEvents } from './console-test-events';
import { FailureAlerts } from './failure-alerts';
import { FargateCluster, RunJobTask } from './fargate-tasks';
import { pgmaintContainerImage, pgmaintImage } from './image';
import { DrillRtoAlarm, deadLetterAlarm, failureAlertsAlarm, JobAlarms, TargetJobAlarms } from './job-alarms';
import { JobFunction } from './job-function';
import { configSlice, lambdaSizing, scheduledInvocations } from './job-settings';
import { fargateSettingsObject, JobTask } from './job-task';
import { PgmaintDashboard } from './pgmaint-dashboard';
import { acknowledgePgmaintFindings } from './policy-acknowledgements';

export interface PgmaintProps {
  /** The validated pgmaint config (see functions/shared/config/load.ts `parseConfig`). */
  readonly config: PgmaintConfig;
  /**
   * Where backups and job state go.
   * @default - the bucket named by `config.backupBucket`, or a new encrypted, private bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * The KMS key of a bucket pgmaint does not create (`bucket`, or `config.backupBucket`): the
   * functions get the key actions their bucket access needs.
   * @default - `config.backupBucketKeyArn`, else the bucket's own `encryptionKey`, else none (SSE-S3)
   */
  readonly bucketKey?: kms.IKey;
  /**
   * Where failure and health alerts go.
   * @default - the topic `config.alerts.topicArn`, or a new topic with `config.alerts.emails` subscribed
   */
  readonly alertTopic?: sns.ITopic;
  /**
   * The KMS key of a topic pgmaint does not create: the functions get `kms:GenerateDataKey*` and
   * `kms:Decrypt` on it to publish. CloudWatch alarms need the key's own policy to allow
   * `cloudwatch.amazonaws.com` (pgmaint cannot change another stack's key).
   * @default - `config.alerts.topicKeyArn`, else none (an unencrypted or SSE-SNS topic)
   */
  readonly alertTopicKey?: kms.IKey;
  /**
   * Each target's database secret, by target name.
   * @default - imported from each target's `secret` (a name or an ARN)
   */
  readonly secrets?: Readonly<Record<string, secretsmanager.ISecret>>;
  /**
   * The container image code for a handler command, built for the functions' architecture.
   * @default - built at deploy time from lib/image/Dockerfile (synth needs no Docker)
   */
  readonly code?: (handler: string, architecture: lambda.Architecture) => lambda.DockerImageCode;
  /**
   * The same image for the Fargate tasks, started as the `pgmaint` CLI.
   * @default - the image `code` builds by default (one asset for functions and tasks)
   */
  readonly containerImage?: (architecture: lambda.Architecture) => ecs.ContainerImage;
  /**
   * CloudWatch Container Insights on the Fargate cluster.
   * @default false - the tasks are short batch runs; Insights' per-task metrics would cost more
   *   than the runs, and each run's outcome is watched already (task-stopped alert, JobSucceeded alarms)
   */
  readonly containerInsights?: boolean;
  /** A VPC for databases that are not publicly reachable. @default - functions run outside any VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - one new security group per function */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Create the `lambda-testevent-schemas` registry for the console test events. Set false when
   * someone already saved a shareable test event in this account and region. @default true
   */
  readonly createTestEventRegistry?: boolean;
}

/**
 * pgmaint on AWS: one Lambda function per job, EventBridge Scheduler schedules per target in each
 * target's time zone, the backup bucket, the alert topic, least-privilege access to each.
 */
export class Pgmaint extends Construct {
  readonly bucket: s3.IBucket;
  readonly alertTopic: sns.ITopic;
  readonly functions: Readonly<Record<JobName, lambda.IFunction>>;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  /** Events that failed every retry land here. */
  readonly deadLetterQueue: sqs.Queue;
  /** Customer-managed key (rotated yearly) for the bucket, topic and queue pgmaint creates. */
  readonly key: kms.Key;
  readonly dashboard: PgmaintDashboard;
  /** The on-failure destination that sends each finally failed run's one alert. */
  readonly failureAlerts: FailureAlerts;
  /**
   * The ECS cluster and each job's Fargate task definition; only with a VPC (a task needs subnets).
   * Without one every run stays on Lambda.
   */
  readonly fargate?: { readonly cluster: FargateCluster; readonly tasks: Readonly<Record<JobName, JobTask>> };

  constructor(scope: Construct, id: string, props: PgmaintProps) {
    super(scope, id);
    validateProps(props);
    const { config } = props;

    this.tag(config);
    const { account, region, partition } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'pgmaint: backups, alerts and dead letters',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted topic: only this account's alarms, in this region
    // (the confused-deputy guard; CloudWatch sends both keys with its KMS calls).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountPublishToTheAlertTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );

    const bucketKey =
      props.bucketKey ??
      (config.backupBucketKeyArn
        ? kms.Key.fromKeyArn(this, 'BackupsKey', config.backupBucketKeyArn)
        : undefined);
    const alertTopicKey =
      props.alertTopicKey ??
      (config.alerts.topicKeyArn
        ? kms.Key.fromKeyArn(this, 'AlertsKey', config.alerts.topicKeyArn)
        : undefined);
    this.bucket = props.bucket ?? this.createOrImportBucket(config, bucketKey);
    warnWithoutAbortRule(this, this.bucket, Object.keys(config.targets));
    this.alertTopic = props.alertTopic ?? this.createOrImportTopic(config);
    const secrets = props.secrets ?? { ...importSecrets(this, config), ...this.createManagedSecrets(config) };
    const code = props.code ?? pgmaintImage;
    const network = this.network(props, config);
    const architecture =
      config.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;

    this.failureAlerts = new FailureAlerts(this, 'FailureAlerts', {
      code,
      architecture,
      alertTopic: this.alertTopic,
      alertTopicKey,
    });
    failureAlertsAlarm(this, this.failureAlerts.function, this.alertTopic);
    const configObjects = new ConfigObjects(this, 'Config', {
      bucket: this.bucket,
      slices: Object.fromEntries(JOBS.map((job) => [job, configSlice(config, JOB_MANIFESTS[job])])) as Record<
        JobName,
        Record<string, unknown>
      >,
    });
    // CDK keeps the deployment's handler at stack level (one per stack): tag it as pgmaint's too.
    this.tag(config, configObjects.handler);
    const functions: Partial<Record<JobName, lambda.IFunction>> = {};
    const tasks: Partial<Record<JobName, JobTask>> = {};
    const invocations = scheduledInvocations(config);
    const cluster = network.vpc
      ? new FargateCluster(this, 'Fargate', {
          vpc: network.vpc,
          containerInsights: props.containerInsights,
          alertTopic: this.alertTopic,
          alertTopicKey,
        })
      : undefined;
    for (const job of JOBS) {
      const manifest = JOB_MANIFESTS[job];
      const access = {
        manifest,
        configObjects,
        config: configSlice(config, manifest),
        bucket: this.bucket,
        bucketKey,
        alertTopic: this.alertTopic,
        alertTopicKey,
        secrets,
      };
      const jobConstruct = new JobFunction(this, titleCase(job), {
        ...access,
        code,
        architecture,
        // After the last retry, and for crashes, timeouts and out-of-memory kills that never reach
        // pgmaint's own code: one alert per run that failed for good.
        onFailure: this.failureAlerts.destinationFor(job),
        ...network,
      });
      const jobFunction = jobConstruct.function;
      // The function, its role, log group and security group.
      Tags.of(jobConstruct).add('pgmaint:job', job);
      // The destination's function must exist before Lambda accepts it in the invoke config.
      jobFunction.node.tryFindChild('EventInvokeConfig')?.node.addDependency(this.failureAlerts.function);
      if (cluster && network.vpc) {
        const task = new JobTask(this, `${titleCase(job)}Task`, {
          ...access,
          cluster: cluster.cluster,
          image: props.containerImage ?? pgmaintContainerImage,
          architecture,
          logGroup: jobConstruct.logGroup,
          network: {
            subnetIds: network.vpc.selectSubnets(network.vpcSubnets).subnetIds,
            // The function's own groups: whatever the databases let the function in lets the task in.
            securityGroups: jobFunction.connections.securityGroups,
            assignPublicIp: config.network?.assignPublicIp,
          },
        });
        Tags.of(task).add('pgmaint:job', job);
        tasks[job] = task;
        // Any target that may run this job on Fargate: the function may start the task.
        if (Object.values(config.targets).some((t) => jobPlacement(t, manifest).runOn !== 'lambda'))
          jobConstruct.handOffTo(task);
      }
      const alarms = new JobAlarms(this, `${titleCase(job)}Alarms`, {
        job,
        function: jobFunction,
        timeout: lambdaSizing(manifest).timeout,
        topic: this.alertTopic,
        invocations: invocations.filter((i) => i.job === job),
      });
      Tags.of(alarms).add('pgmaint:job', job);
      functions[job] = jobFunction;
    }
    this.functions = functions as Record<JobName, lambda.IFunction>;
    if (cluster) {
      this.fargate = { cluster, tasks: tasks as Record<JobName, JobTask> };
      configObjects.writeFargateSettings(fargateSettingsObject(cluster.cluster, tasks));
    }
    for (const invocation of invocations) {
      // Lambda and Fargate runs both publish JobSucceeded (EMF in the job's log group).
      const alarms = new TargetJobAlarms(this, `${invocation.target}-${invocation.name}-Alarms`, {
        invocation,
        topic: this.alertTopic,
      });
      Tags.of(alarms).add('pgmaint:job', invocation.job);
      Tags.of(alarms).add('pgmaint:target', invocation.target);
    }
    for (const [target, settings] of Object.entries(config.targets)) {
      const rto = settings.restore?.drill?.rto;
      if (rto === undefined) continue;
      const alarm = new DrillRtoAlarm(this, `${target}-drill-rto-Alarm`, {
        target,
        rto,
        topic: this.alertTopic,
      });
      Tags.of(alarm).add('pgmaint:job', 'restore');
      Tags.of(alarm).add('pgmaint:target', target);
    }

    this.deadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
    });
    deadLetterAlarm(this, this.deadLetterQueue, this.alertTopic);
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules', {});
    // The schedules' own role, so it may use the key for the encrypted dead-letter queue; only
    // this account's pgmaint schedule group may assume it.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: "pgmaint's schedules: invoke the job functions, park undeliverable events",
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': account,
            'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
    });
    this.key.grant(schedulerRole, 'kms:Decrypt', 'kms:GenerateDataKey*');
    const delivery = {
      role: schedulerRole,
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: this.deadLetterQueue,
    };
    for (const invocation of invocations) {
      const task = this.fargate?.tasks[invocation.job];
      const onFargate = invocation.runOn === 'fargate' && task;
      new scheduler.Schedule(this, `${invocation.target}-${invocation.name}`, {
        scheduleGroup: this.scheduleGroup,
        description: `pgmaint ${invocation.name} for ${invocation.target}${onFargate ? ' (on Fargate)' : ''}`,
        schedule: scheduler.ScheduleExpression.expression(
          invocation.expression,
          TimeZone.of(invocation.timezone),
        ),
        target: onFargate
          ? new RunJobTask({
              ...delivery,
              task,
              job: invocation.job,
              target: invocation.target,
              event: invocation.input,
              size: invocation.size,
              defaults: JOB_MANIFESTS[invocation.job].fargate,
            })
          : new targets.LambdaInvoke(this.functions[invocation.job], {
              ...delivery,
              input: scheduler.ScheduleTargetInput.fromObject(invocation.input),
            }),
      });
    }
    this.dashboard = new PgmaintDashboard(this, 'Dashboard', {
      targets: Object.keys(config.targets),
      functions: this.functions,
    });
    new ConsoleTestEvents(this, 'TestEvents', {
      config,
      functions: this.functions,
      createRegistry: props.createTestEventRegistry,
    });
    acknowledgePgmaintFindings(this, {
      bucketArn: this.bucket.bucketArn,
      targets: Object.keys(config.targets),
      functionArns: Object.values(this.functions).map((f) => f.functionArn),
    });
  }

  /** The VPC from props, else from the config's `network`; endpoints when asked for. */
  private network(props: PgmaintProps, config: PgmaintConfig) {
    const net = config.network;
    const vpc =
      props.vpc ??
      (net
        ? ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
            vpcId: net.vpcId,
            availabilityZones: net.availabilityZones,
            privateSubnetIds: net.privateSubnetIds,
            privateSubnetRouteTableIds: net.privateSubnetRouteTableIds,
            vpcCidrBlock: net.vpcCidrBlock,
          })
        : undefined);
    if (!vpc) return {};
    const securityGroups =
      props.securityGroups ??
      net?.securityGroupIds?.map((id, i) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, id),
      );
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    if (net?.createEndpoints) {
      // Private subnets without a NAT reach S3, Secrets Manager and SNS only through endpoints.
      vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
      for (const [id, service] of [
        ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ['SnsEndpoint', ec2.InterfaceVpcEndpointAwsService.SNS],
        // Fargate tasks pull the image (ECR, its layers from S3) and write their logs; the
        // functions' hand-off calls ECS RunTask.
        ['EcrEndpoint', ec2.InterfaceVpcEndpointAwsService.ECR],
        ['EcrDockerEndpoint', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
        ['LogsEndpoint', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
        ['EcsEndpoint', ec2.InterfaceVpcEndpointAwsService.ECS],
      ] as const)
        vpc.addInterfaceEndpoint(id, { service, privateDnsEnabled: true, subnets: vpcSubnets });
    }
    return { vpc, vpcSubnets, securityGroups };
  }

  /** Targets with `manageSecret`: the stack owns the secret and rotates it. */
  private createManagedSecrets(config: PgmaintConfig): Record<string, secretsmanager.ISecret> {
    const secrets: Record<string, secretsmanager.ISecret> = {};
    for (const [name, target] of Object.entries(config.targets)) {
      const managed = target.manageSecret;
      if (!managed || !target.secret) continue;
      const secret = new secretsmanager.Secret(this, `ManagedSecret-${name}`, {
        secretName: target.secret,
        description: `pgmaint: credentials of target ${name} (rotated every ${managed.rotationDays} days)`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({
            engine: 'postgres',
            host: managed.host,
            port: managed.port,
            dbname: managed.dbname,
            username: managed.username,
          }),
          generateStringKey: 'password',
          excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
          passwordLength: 32,
        },
      });
      Tags.of(secret).add('pgmaint:target', name);
      secret.addRotationSchedule('Rotation', {
        hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser(),
        automaticallyAfter: Duration.days(managed.rotationDays),
      });
      secrets[name] = secret;
    }
    return secrets;
  }

  /** pgmaint's own tag on everything it creates, and the user's `tags`. */
  private tag(config: PgmaintConfig, scope: IConstruct = this): void {
    // CloudFormation cannot tag a dashboard (CDK's type would emit tags the template rejects).
    const options = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    Tags.of(scope).add('pgmaint:deployment', this.node.path, options);
    for (const [key, value] of Object.entries(config.tags ?? {})) Tags.of(scope).add(key, value, options);
  }

  private createOrImportBucket(config: PgmaintConfig, encryptionKey: kms.IKey | undefined): s3.IBucket {
    if (config.backupBucket)
      return s3.Bucket.fromBucketAttributes(this, 'Backups', {
        bucketName: config.backupBucket,
        encryptionKey,
      });
    return new s3.Bucket(this, 'Backups', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Versioning: an overwritten or deleted backup can be recovered; old versions expire.
      versioned: true,
      // backup.objectLock: each backup locks its own objects on write; the bucket only allows it.
      // Object Lock can only be chosen when the bucket is created.
      ...(Object.values(config.targets).some((t) => t.backup?.objectLock) ? { objectLockEnabled: true } : {}),
      // Backups outlive the stack: deleting the stack must never delete them.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
    });
  }

  private createOrImportTopic(config: PgmaintConfig): sns.ITopic {
    if (config.alerts.topicArn) return sns.Topic.fromTopicArn(this, 'Alerts', config.alerts.topicArn);
    const topic = new sns.Topic(this, 'Alerts', {
      displayName: 'pgmaint alerts',
      enforceSSL: true,
      masterKey: this.key,
    });
    for (const email of config.alerts.emails)
      topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}

function importSecrets(scope: Construct, config: PgmaintConfig): Record<string, secretsmanager.ISecret> {
  const secrets: Record<string, secretsmanager.ISecret> = {};
  for (const [name, target] of Object.entries(config.targets)) {
    if (target.manageSecret) continue;
    const id = target.secret ?? '';
    const construct = `Secret-${name}`;
    if (!id.startsWith('arn:')) secrets[name] = secretsmanager.Secret.fromSecretNameV2(scope, construct, id);
    // A complete ARN ends in "-" plus six random characters; a partial one does not.
    else if (/-[A-Za-z0-9]{6}$/.test(id))
      secrets[name] = secretsmanager.Secret.fromSecretCompleteArn(scope, construct, id);
    else secrets[name] = secretsmanager.Secret.fromSecretPartialArn(scope, construct, id);
  }
  return secrets;
}

/** Every problem with the props at once, so one synth shows them all. */
function validateProps(props: PgmaintProps): void {
  const problems: string[] = [];
  const { config } = props;
  for (const [name, target] of Object.entries(config.targets)) {
    if (target.url !== undefined) {
      problems.push(
        `targets.${name}.url: deployed targets take their credentials from Secrets Manager; use "secret" instead`,
      );
    }
    if (target.secret === undefined && props.secrets?.[name] === undefined) {
      problems.push(`targets.${name}.secret: required when deploying`);
    }
  }
  for (const [name, target] of Object.entries(config.targets)) {
    for (const manifest of Object.values(JOB_MANIFESTS)) {
      const { runOn } = jobPlacement(target, manifest);
      if (runOn === 'fargate' && !props.vpc && !config.network)
        problems.push(
          `targets.${name}.${manifest.job}.runOn: "fargate" needs subnets to run the task in: add "network" (vpcId, availabilityZones, privateSubnetIds) to the config, or run it on "lambda"`,
        );
    }
    // parseConfig refuses these too; a config built in code reaches the stack without it.
    for (const { path, message } of targetSizeProblems(target, Object.values(JOB_MANIFESTS)))
      problems.push(`targets.${name}.${path.join('.')}: ${message}`);
  }
  if (config.backupBucket?.startsWith('file://') && !props.bucket) {
    problems.push(
      'backupBucket: a file:// store is for local runs; give an S3 bucket name or leave it out to create one',
    );
  }
  if ((props.bucketKey ?? config.backupBucketKeyArn) && !props.bucket && !config.backupBucket) {
    problems.push(
      'backupBucketKeyArn: only for a bucket pgmaint does not create (backupBucket); the bucket it creates uses its own key',
    );
  }
  if ((props.alertTopicKey ?? config.alerts.topicKeyArn) && !props.alertTopic && !config.alerts.topicArn) {
    problems.push(
      'alerts.topicKeyArn: only for a topic pgmaint does not create (alerts.topicArn); the topic it creates uses its own key',
    );
  }
  if (problems.length > 0)
    throw new Error(`pgmaint: invalid props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function titleCase(job: string): string {
  return job.charAt(0).toUpperCase() + job.slice(1);
}
