import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from './context.js';

// `npx cdk synth|deploy` (cdk.json at the repository root runs this file through tsx).
// Two deployments: the shop's five stacks (default), or with `-c project=<folder or config file>` the
// runners and the dashboard for a user's own app and tables, from that project's config. Each path
// loads only its own modules: the project path never loads app/.
const app = new App();
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
try {
  const project: unknown = app.node.tryGetContext('project');
  if (project !== undefined && project !== null && project !== '') {
    const { buildProjectApp, loadDeployedProject, projectDeployment } = await import('./project-app.js');
    const loaded = await loadDeployedProject(String(project));
    buildProjectApp(app, projectDeployment(loaded, app.node), { env });
  } else {
    const { configFromContext } = await import('./config.js');
    const { buildLoadtestApp } = await import('./loadtest-app.js');
    buildLoadtestApp(app, configFromContext(app.node), { env });
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
// Synth fails on any cdk-nag AwsSolutions finding that is not acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
