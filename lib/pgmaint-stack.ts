import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PgmaintConfig } from '../functions/shared/config/schema';
import { Pgmaint } from './pgmaint';

export interface PgmaintStackProps extends StackProps {
  /** The validated pgmaint config. */
  readonly config: PgmaintConfig;
}

/** The deployable unit: one Pgmaint per stack. */
export class PgmaintStack extends Stack {
  readonly pgmaint: Pgmaint;

  constructor(scope: Construct, id: string, props: PgmaintStackProps) {
    super(scope, id, props);
    this.pgmaint = new Pgmaint(this, 'Pgmaint', { config: props.config });
  }
}
