import { App } from 'aws-cdk-lib';
import { createApp } from '../infra/app.js';
import { extractWorkflowDefinition } from '../infra/workflow-definition.js';

/** Public list prices, us-east-1, checked 2026-11 (USD). */
const price = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  stateTransition: 0.025 / 1000,
  dynamoWrite: 0.625 / 1e6,
  dynamoRead: 0.125 / 1e6,
};

/**
 * Cost per 1,000 images of the deployed stack, from its own synthesized settings: the copy
 * function's memory, the state transitions one image takes in the definition, and the DynamoDB
 * requests the run store makes per image. `copySeconds` is the assumed billed time per copy.
 */
export function estimateCost(copySeconds: number, blobsPerImage = 4): string {
  const { app, stack } = createApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<
      string,
      { Type: string; Properties: { MemorySize?: number; Environment?: { Variables?: Record<string, string> } } }
    >;
  };
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const memoryOf = (task: string) =>
    (functions.find((f) => f.Properties.Environment?.Variables?.FERRY_TASK === task)?.Properties.MemorySize ?? 128) /
    1024;
  const definition = extractWorkflowDefinition(template as never) as {
    States: Record<string, { ItemProcessor?: { States: Record<string, unknown> } }>;
  };
  // States one successful image passes through in the inline Map: its task, the failFast check, the end.
  const perImageTransitions = Object.keys(definition.States.CopyImages!.ItemProcessor!.States).filter(
    (s) => !/RecordFailure|ImageFailed/.test(s),
  ).length;
  const images = 1000;
  const copyGbS = images * copySeconds * memoryOf('copyImage');
  // Plan (resolve + preflight) and Finish, amortised: ~50 ms of 512/256 MB per image.
  const overheadGbS = images * 0.05 * (memoryOf('plan') + memoryOf('finish'));
  const lambda = (copyGbS + overheadGbS) * price.lambdaArmGbSecond + (images + 3) * price.lambdaRequest;
  const transitions = images * perImageTransitions + 6;
  // Per image: create (batch), annotate digest, start, finish, run counter; reads: run + image at start, listings.
  // Blob index, for an image of `blobsPerImage` blobs of 1 MiB or more new to the destination
  // (smaller ones never reach the index): per blob one lookup,
  // a claim and its release, and one location write (a cold container; a warm one writes less).
  const writes = images * (5 + 3 * blobsPerImage) + 4;
  const reads = images * (4 + blobsPerImage);
  const sfn = transitions * price.stateTransition;
  const dynamo = writes * price.dynamoWrite + reads * price.dynamoRead;
  const lines = [
    '| item | per 1,000 images | USD |',
    '| --- | --- | --- |',
    `| Lambda (copy ${memoryOf('copyImage') * 1024} MB arm64 × ${copySeconds} s, plan/finish) | ${(copyGbS + overheadGbS).toFixed(0)} GB-s, ${images + 3} requests | ${lambda.toFixed(3)} |`,
    `| Step Functions Standard | ${transitions} state transitions (${perImageTransitions} per image) | ${sfn.toFixed(3)} |`,
    `| DynamoDB on-demand (run state; blob index for ${blobsPerImage} new layers ≥ 1 MiB per image) | ${writes} writes, ${reads} reads | ${dynamo.toFixed(4)} |`,
    `| **total** (excl. data transfer, NAT, ECR storage) | | **${(lambda + sfn + dynamo).toFixed(3)}** |`,
  ];
  return lines.join('\n');
}
