/**
 * Build step: synthesizes the stack (without bundling) and writes the state machine definition
 * as plain ASL to dist/workflow.asl.json for `ferry serve`. One workflow definition, the CDK one.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createApp } from './app.js';
import { extractWorkflowDefinition } from './workflow-definition.js';

const out = resolve(import.meta.dirname, '..', 'workflow.asl.json');
const { app, stack } = createApp(
  new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    outdir: join(resolve(import.meta.dirname, '..'), 'cdk.extract.out'),
  }),
);
const template = app.synth().getStackByName(stack.stackName).template as Parameters<
  typeof extractWorkflowDefinition
>[0];
writeFileSync(out, `${JSON.stringify(extractWorkflowDefinition(template), null, 2)}\n`);
