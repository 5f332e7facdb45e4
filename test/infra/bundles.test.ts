import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../infra/app.js';

// The bundle reads its settings from the environment, as Lambda gives them: stubbed per test and
// restored after, so no later test in this worker sees a table name or region it did not set.
const before = { FERRY_TABLE_NAME: process.env.FERRY_TABLE_NAME, AWS_REGION: process.env.AWS_REGION };
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(() => {
  expect({ FERRY_TABLE_NAME: process.env.FERRY_TABLE_NAME, AWS_REGION: process.env.AWS_REGION }).toEqual(before);
});

describe('the deployed Lambda bundles', () => {
  it('are built by esbuild and the API function answers a bad request with a 400 naming the field', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'ferry-synth-'));
    const { app, stack } = createApp(new App({ outdir }));
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties: { Environment?: { Variables?: Record<string, string> }; Code?: { S3Key?: string } };
        }
      >;
    };
    const api = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.FERRY_TASK === 'api',
    )!;
    // The function's code is the asset whose hash names the S3 key; CDK stages it as asset.<hash>.
    const asset = `asset.${api.Properties.Code!.S3Key!.replace(/\.zip$/, '')}`;
    vi.stubEnv('FERRY_TABLE_NAME', 'runs');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    const module = (await import(pathToFileURL(join(outdir, asset, 'index.mjs')).href)) as {
      handler: (event: object) => Promise<{ statusCode: number; body: string }>;
    };
    // API Gateway passes the path without the stage (v1): the function routes it as /v1/runs.
    const res = await module.handler({
      httpMethod: 'POST',
      path: '/runs',
      body: JSON.stringify({ images: ['busybox'], destination: { registry: 'bad host' } }),
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      message: 'destination.registry: must be a registry host[:port] (no scheme, user or path)',
    });
  }, 120_000);
});
