import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PgmaintConfig } from '../functions/shared/config/schema';
import { Pgmaint } from './pgmaint';

export interface PgmaintStackProps extends StackProps {
  /** The validated pgmaint config. */
  readonly config: PgmaintConfig;
  /** See PgmaintProps.createTestEventRegistry. @default true */
  readonly createTestEventRegistry?: boolean;
}

/** The deployable unit: one Pgmaint per stack. */
export class PgmaintStack extends Stack {
  readonly pgmaint: Pgmaint;

  constructor(scope: Construct, id: string, props: PgmaintStackProps) {
    super(scope, id, props);
    this.pgmaint = new Pgmaint(this, 'Pgmaint', {
      config: props.config,
      createTestEventRegistry: props.createTestEventRegistry,
    });
    // What an operator looks for after deploy: the functions to invoke, where backups and alerts go.
    for (const [job, fn] of Object.entries(this.pgmaint.functions))
      new CfnOutput(this, `${job}Function`, {
        value: fn.functionName,
        description: `pgmaint ${job} function`,
      });
    new CfnOutput(this, 'BackupBucket', { value: this.pgmaint.bucket.bucketName });
    new CfnOutput(this, 'AlertTopic', { value: this.pgmaint.alertTopic.topicArn });
    new CfnOutput(this, 'Dashboard', { value: this.pgmaint.dashboard.dashboard.dashboardName });
    if (this.pgmaint.fargate)
      new CfnOutput(this, 'FargateCluster', {
        value: this.pgmaint.fargate.cluster.cluster.clusterName,
        description: "the ECS cluster the jobs' Fargate tasks run in",
      });
  }
}
