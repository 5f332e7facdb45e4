import { createServer, type Server } from 'node:http';
import { type FaultProxy, type SeenRequest, startFaultProxy } from './fault-proxy.js';

export interface EcrRepositoryRecord {
  repositoryName: string;
  imageTagMutability: string;
  scanOnPush: boolean;
  encryption: { encryptionType: string; kmsKey?: string };
  tags: { Key: string; Value: string }[];
  lifecyclePolicyText?: string;
}

export interface EcrDouble {
  readonly url: string;
  readonly repositories: Map<string, EcrRepositoryRecord>;
  readonly calls: string[];
  /** The access key id each ECR call was signed with, in order. */
  readonly signers: string[];
  /** Roles assumed through the STS stand-in (the same server answers `AWS_ENDPOINT_URL_STS`). */
  readonly assumedRoles: string[];
  /** Answer the next N control-plane calls with ThrottlingException. */
  throttleNext(count: number): void;
  stop(): Promise<void>;
  /** BatchDeleteImage inputs, in order (answered as deleted; the data plane is left as it is). */
  readonly batchDeletes: Record<string, unknown>[];
}

/**
 * A stand-in for ECR's control plane (the AWS JSON 1.1 protocol the SDK speaks):
 * GetAuthorizationToken, CreateRepository (RepositoryAlreadyExistsException on repeats),
 * PutLifecyclePolicy. The data plane is a real docker-registry with htpasswd user `AWS`.
 */
export async function startEcrDouble(password: string): Promise<EcrDouble> {
  const repositories = new Map<string, EcrRepositoryRecord>();
  const calls: string[] = [];
  const signers: string[] = [];
  const assumedRoles: string[] = [];
  const batchDeletes: Record<string, unknown>[] = [];
  let throttle = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (body.startsWith('Action=AssumeRole')) {
        const role = new URLSearchParams(body).get('RoleArn') ?? '';
        assumedRoles.push(role);
        const expiration = new Date(Date.now() + 3600_000).toISOString();
        res
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAASSUMEDROLE</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>assumed-token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${role}/ferry</Arn><AssumedRoleId>AROA:ferry</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`,
          );
        return;
      }
      signers.push(/Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '');
      const op =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      calls.push(op);
      const input = JSON.parse(body || '{}') as Record<string, unknown>;
      const reply = (status: number, payload: object) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
      if (throttle > 0) {
        throttle--;
        return reply(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      }
      if (op === 'GetAuthorizationToken') {
        const account = (input.registryIds as string[] | undefined)?.[0] ?? '123456789012';
        return reply(200, {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
              proxyEndpoint: `https://${account}.dkr.ecr.us-east-1.amazonaws.com`,
            },
          ],
        });
      }
      if (op === 'CreateRepository') {
        const name = String(input.repositoryName);
        if (repositories.has(name))
          return reply(400, {
            __type: 'RepositoryAlreadyExistsException',
            message: `The repository with name '${name}' already exists`,
          });
        const record: EcrRepositoryRecord = {
          repositoryName: name,
          imageTagMutability: String(input.imageTagMutability ?? 'MUTABLE'),
          scanOnPush: (input.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush ?? false,
          encryption: (input.encryptionConfiguration as EcrRepositoryRecord['encryption'] | undefined) ?? {
            encryptionType: 'AES256',
          },
          tags: (input.tags as EcrRepositoryRecord['tags'] | undefined) ?? [],
        };
        repositories.set(name, record);
        return reply(200, {
          repository: {
            repositoryName: name,
            registryId: '123456789012',
            repositoryArn: `arn:aws:ecr:us-east-1:123456789012:repository/${name}`,
          },
        });
      }
      if (op === 'PutLifecyclePolicy') {
        const record = repositories.get(String(input.repositoryName));
        if (!record) return reply(400, { __type: 'RepositoryNotFoundException', message: 'no such repository' });
        record.lifecyclePolicyText = String(input.lifecyclePolicyText);
        return reply(200, { repositoryName: record.repositoryName, lifecyclePolicyText: record.lifecyclePolicyText });
      }
      if (op === 'BatchDeleteImage') {
        batchDeletes.push(input);
        if (!repositories.has(String(input.repositoryName)))
          return reply(400, { __type: 'RepositoryNotFoundException', message: 'no such repository' });
        return reply(200, { imageIds: input.imageIds, failures: [] });
      }
      return reply(400, { __type: 'UnknownOperationException', message: op });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    repositories,
    calls,
    signers,
    assumedRoles,
    throttleNext: (n) => (throttle = n),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
    batchDeletes,
  };
}

/**
 * ECR's data plane, faithfully enough: a real registry (htpasswd user AWS) behind a proxy that
 * refuses repositories the control plane has not created (NAME_UNKNOWN), answers PATCH with 201,
 * rejects a monolithic PUT with a body, and enforces immutable tags.
 */
export function startEcrDataPlane(registryUrl: string, ecr: EcrDouble): Promise<FaultProxy> {
  const pushedTags = new Set<string>();
  return startFaultProxy(registryUrl, (req: SeenRequest) => {
    const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(req.url)?.[1];
    if (repo === undefined) return undefined;
    if (!ecr.repositories.has(repo)) {
      return {
        kind: 'respond',
        status: 404,
        body: JSON.stringify({
          errors: [
            {
              code: 'NAME_UNKNOWN',
              message: `The repository with name '${repo}' does not exist in the registry with id '123456789012'`,
            },
          ],
        }),
      };
    }
    if (req.method === 'PATCH') return { kind: 'rewrite', status: 201 };
    if (req.method === 'PUT' && req.url.includes('/blobs/uploads/') && Number(req.headers['content-length'] ?? 0) > 0) {
      return {
        kind: 'respond',
        status: 400,
        body: '{"errors":[{"code":"UNSUPPORTED","message":"monolithic upload not supported"}]}',
      };
    }
    const tag = /\/manifests\/([^/?]+)$/.exec(req.url)?.[1];
    if (
      req.method === 'PUT' &&
      tag !== undefined &&
      !tag.startsWith('sha256:') &&
      ecr.repositories.get(repo)!.imageTagMutability === 'IMMUTABLE'
    ) {
      if (pushedTags.has(`${repo}:${tag}`)) {
        return {
          kind: 'respond',
          status: 400,
          body: JSON.stringify({
            errors: [
              {
                code: 'TAG_INVALID',
                message: `The image tag '${tag}' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`,
              },
            ],
          }),
        };
      }
      pushedTags.add(`${repo}:${tag}`);
    }
    return undefined;
  });
}

/** Registers a repository with the double directly (as if created in the console). */
export function createRepository(ecr: EcrDouble, name: string, mutability = 'MUTABLE'): void {
  ecr.repositories.set(name, {
    repositoryName: name,
    imageTagMutability: mutability,
    scanOnPush: false,
    encryption: { encryptionType: 'AES256' },
    tags: [],
  });
}
