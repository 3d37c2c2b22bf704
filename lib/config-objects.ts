import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, type IConstruct } from 'constructs';
import {
  CONFIG_OBJECT_ENV,
  CONFIG_PREFIX,
  CONFIG_SHA256_ENV,
  configObjectKey,
  configSha256,
} from '../functions/shared/config/deployed';
import type { JobName } from '../functions/shared/config/schema';
import { FARGATE_SETTINGS_KEY, type FargateSettingsObject } from '../functions/shared/fargate-settings';
import { findingReference } from './policy-acknowledgements';

const FARGATE_SETTINGS_FILE = FARGATE_SETTINGS_KEY.slice(CONFIG_PREFIX.length);

export interface ConfigObjectsProps {
  readonly bucket: s3.IBucket;
  /** Each job's slice of the config (see configSlice). */
  readonly slices: Readonly<Record<JobName, Record<string, unknown>>>;
}

/**
 * Each job's config as an object in the backup bucket under `.pgmaint/config/`, written at deploy
 * time, so a config of any size reaches the functions and tasks (see functions/shared/config/deployed.ts
 * for why S3). `bind` gives a function or task the pointer, the hash and read access to its own object.
 */
export class ConfigObjects extends Construct {
  readonly deployment: s3deploy.BucketDeployment;
  /** The function that writes the objects (CDK's, shared by the stack). */
  readonly handler: IConstruct;
  private readonly texts: Readonly<Record<string, string>>;
  private readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ConfigObjectsProps) {
    super(scope, id);
    this.bucket = props.bucket;
    this.texts = Object.fromEntries(
      Object.entries(props.slices).map(([job, slice]) => [job, JSON.stringify(slice)]),
    );
    this.deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: props.bucket,
      destinationKeyPrefix: CONFIG_PREFIX,
      sources: Object.entries(this.texts).map(([job, text]) => s3deploy.Source.data(`${job}.json`, text)),
      // Prune only ever touches this prefix: a job that no longer exists loses its object.
      prune: true,
      // Written by its own deployment (fargateSettings), after the tasks it names exist.
      exclude: [FARGATE_SETTINGS_FILE],
      contentType: 'application/json',
      memoryLimit: 256,
    });
    this.handler = this.deployment.handlerRole.node.scope ?? this.deployment;
    acknowledgeDeploymentHandler(this.handler, props.bucket);
  }

  /**
   * `.pgmaint/config/fargate.json`: the cluster, network and each job's task definition, so the
   * CLI's `--on fargate` can start a task knowing only the bucket. Its own deployment: it names
   * the task definitions, which are created after (and depend on) the config objects.
   */
  writeFargateSettings(settings: FargateSettingsObject): void {
    new s3deploy.BucketDeployment(this, 'FargateSettings', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: CONFIG_PREFIX,
      sources: [s3deploy.Source.jsonData(FARGATE_SETTINGS_FILE, settings)],
      prune: false,
      contentType: 'application/json',
      memoryLimit: 256,
    });
  }

  /** The variables that point one job's function or task at its config. */
  environment(job: JobName): Record<string, string> {
    const text = this.texts[job];
    if (text === undefined) throw new Error(`pgmaint: no config object for job ${job}`);
    return {
      [CONFIG_OBJECT_ENV]: `s3://${this.bucket.bucketName}/${configObjectKey(job)}`,
      [CONFIG_SHA256_ENV]: configSha256(text),
    };
  }

  /** Read access to the job's own config object (and the bucket key, when there is one). */
  grantRead(job: JobName, grantee: iam.IGrantable, key: kms.IKey | undefined): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnConfig',
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(configObjectKey(job))],
      }),
    );
    key?.grantDecrypt(grantee);
  }
}

/**
 * cdk-nag findings on CDK's BucketDeployment handler, acknowledged on that handler alone. It runs
 * only during `cdk deploy`, to copy the config objects from CDK's asset bucket into `.pgmaint/config/`.
 */
function acknowledgeDeploymentHandler(handler: IConstruct, bucket: s3.IBucket): void {
  const { account, region } = Stack.of(handler);
  const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  // CDK's default synthesizer's asset bucket (qualifier hnb659fds).
  const assets = `arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${part(account, 'AWS::AccountId')}-${part(region, 'AWS::Region')}/*`;
  const wildcards = [
    'Action::s3:GetObject*',
    'Action::s3:GetBucket*',
    'Action::s3:List*',
    'Action::s3:DeleteObject*',
    'Action::s3:Abort*',
    'Action::kms:GenerateDataKey*',
    'Action::kms:ReEncrypt*',
    `Resource::${assets}`,
    `Resource::${findingReference(handler, bucket.bucketArn)}/*`,
  ];
  const findings: ReadonlyArray<{ id: string; reason: string }> = [
    {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's BucketDeployment handler writes only CloudWatch logs with AWSLambdaBasicExecutionRole",
    },
    ...wildcards.map((wildcard) => ({
      id: `AwsSolutions::AwsSolutions-IAM5[${wildcard}]`,
      reason:
        "CDK's BucketDeployment handler, as CDK grants it: reads the config from CDK's asset bucket, writes and prunes objects under .pgmaint/config/ of the backup bucket (with its key), only during a deploy",
    })),
    {
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: "CDK's BucketDeployment handler: CDK picks and updates its Python runtime",
    },
    {
      id: 'Serverless::Serverless-LambdaLatestVersion',
      reason: "CDK's BucketDeployment handler: CDK picks and updates its Python runtime",
    },
    {
      id: 'Serverless::Serverless-LambdaDLQ',
      reason:
        'CloudFormation invokes the BucketDeployment handler synchronously and fails the deploy when it fails; there is no event to park',
    },
    {
      id: 'Serverless::Serverless-LambdaTracing',
      reason: 'The BucketDeployment handler runs once per deploy; CloudFormation shows its failure and log',
    },
  ];
  for (const finding of findings) Validations.of(handler).acknowledge(finding);
}
