import { Duration } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Env, startRequestTimeoutSeconds } from '../../functions/contract.js';

export interface FerryFunctionProps {
  /** Handler file under functions/handlers, without extension (`workflow/copy-image`). */
  readonly entry: string;
  /** The task name the local runtime maps this function to. */
  readonly task: string;
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  readonly logRetention: RetentionDays;
  /** Concurrent executions reserved for (and capping) this function. */
  readonly reservedConcurrentExecutions?: number;
}

/** The repository root (this file runs from infra/ under vitest and from dist/infra/ when compiled). */
function findRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(resolve(dir, 'package-lock.json'))) return dir;
  throw new Error('package-lock.json not found above infra/');
}
const root = findRoot(import.meta.dirname);

/**
 * Every Ferry Lambda: Node 24 on arm64, bundled by esbuild as ESM, JSON logs with retention,
 * X-Ray tracing, explicit memory and timeout. The one place these defaults live.
 */
export class FerryFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: FerryFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
    super(scope, id, {
      entry: resolve(root, 'functions', 'handlers', `${props.entry}.ts`),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      // The functions that start runs keep this default: an Idempotency-Key's takeover waits for it.
      timeout: props.timeout ?? Duration.seconds(startRequestTimeoutSeconds),
      tracing: Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      projectRoot: root,
      depsLockFilePath: resolve(root, 'package-lock.json'),
      environment: { ...props.environment, [Env.task]: props.task, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        sourceMap: true,
        minify: true,
        mainFields: ['module', 'main'],
        banner:
          "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);",
      },
    });
  }
}
