import { cleanEnv } from './cli.js';
import { type EcrDouble, startEcrDataPlane, startEcrDouble } from './ecr-double.js';
import type { FaultProxy } from './fault-proxy.js';
import { type RunningRegistry, startRegistry } from './registry-process.js';

/** The ECR host the CLI tests name; its data plane is a real registry behind `FERRY_REGISTRY_ENDPOINTS`. */
export const ecrHost = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

/**
 * Amazon ECR for CLI tests: the control-plane double (GetAuthorizationToken, repositories,
 * BatchDeleteImage) and a real docker-registry as the data plane, reached as `ecrHost`.
 */
export interface EcrStack {
  readonly registry: RunningRegistry;
  readonly ecr: EcrDouble;
  readonly dataPlane: FaultProxy;
  /** The CLI's environment: the SDK pointed at the double, the ECR host at the data plane. */
  env(): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts the stack; `password` is the token GetAuthorizationToken hands out (user `AWS`). */
export async function startEcrStack(password: string): Promise<EcrStack> {
  const registry = await startRegistry({ kind: 'htpasswd', users: { AWS: password } });
  const ecr = await startEcrDouble(password);
  const dataPlane = await startEcrDataPlane(registry.url, ecr);
  return {
    registry,
    ecr,
    dataPlane,
    env: () =>
      cleanEnv({
        AWS_ENDPOINT_URL_ECR: ecr.url,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_REGION: 'us-east-1',
        FERRY_REGISTRY_ENDPOINTS: `${ecrHost}=${dataPlane.url}`,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }),
    stop: async () => {
      await dataPlane.stop();
      await ecr.stop();
      await registry.stop();
    },
  };
}
