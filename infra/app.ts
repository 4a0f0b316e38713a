import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext, type LoadtestConfig } from './config.js';
import { buildLoadtestApp } from './loadtest-app.js';

// `npx cdk synth|deploy` (cdk.json at the repository root runs this file through tsx).
const app = new App();
let config: LoadtestConfig;
try {
  config = configFromContext(app.node);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
buildLoadtestApp(app, config, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Synth fails on any cdk-nag AwsSolutions finding that is not acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
