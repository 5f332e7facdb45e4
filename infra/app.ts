import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseFerryConfig } from './config.js';
import { FerryStack } from './ferry-stack.js';

/** The CDK app: `npx cdk synth` (offline). cdk-nag AwsSolutions findings fail the synth. */
export function createApp(app: App = new App()): { app: App; stack: FerryStack } {
  const stack = new FerryStack(app, 'Ferry', {
    config: parseFerryConfig(app.node.tryGetContext('ferry')),
    description: 'Ferry: serverless OCI image mirroring',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().app.synth();
