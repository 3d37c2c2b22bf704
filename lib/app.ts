import { App } from 'aws-cdk-lib';
import { loadConfigFile, parseConfig } from '../functions/shared/config/load';
import { errorMessage } from '../functions/shared/errors';
import { PgmaintStack } from './pgmaint-stack';

/**
 * The CDK app: the config comes from cdk.json's context key `pgmaint`, or from the file named by
 * `-c pgmaintConfig=FILE` (a pgmaint config or a cdk.json holding one).
 */
const app = new App();
const file = app.node.tryGetContext('pgmaintConfig') as string | undefined;
const raw: unknown = app.node.tryGetContext('pgmaint');
let config: ReturnType<typeof parseConfig>;
try {
  if (file) config = loadConfigFile(file);
  else if (raw !== undefined) config = parseConfig(raw, 'cdk.json context "pgmaint"');
  else throw new Error('no config: add "pgmaint" to cdk.json\'s context, or pass -c pgmaintConfig=FILE');
} catch (error) {
  process.stderr.write(`${errorMessage(error)}\n`);
  process.exit(1);
}
new PgmaintStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'Pgmaint', {
  config,
  // `-c createTestEventRegistry=false` when the account already has the console's registry.
  createTestEventRegistry: app.node.tryGetContext('createTestEventRegistry') !== 'false',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'pgmaint: scheduled PostgreSQL backup, restore drills, retention, reindex and health checks',
});
