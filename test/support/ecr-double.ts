import { createServer, type Server } from 'node:http';

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
  stop(): Promise<void>;
}

/**
 * A stand-in for ECR's control plane (the AWS JSON 1.1 protocol the SDK speaks):
 * GetAuthorizationToken, CreateRepository (RepositoryAlreadyExistsException on repeats),
 * PutLifecyclePolicy. The data plane is a real docker-registry with htpasswd user `AWS`.
 */
export async function startEcrDouble(password: string): Promise<EcrDouble> {
  const repositories = new Map<string, EcrRepositoryRecord>();
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      calls.push(op);
      const input = JSON.parse(body || '{}') as Record<string, unknown>;
      const reply = (status: number, payload: object) => res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
      if (op === 'GetAuthorizationToken') {
        const account = (input.registryIds as string[] | undefined)?.[0] ?? '123456789012';
        return reply(200, { authorizationData: [{
          authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
          expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600, proxyEndpoint: `https://${account}.dkr.ecr.us-east-1.amazonaws.com`,
        }] });
      }
      if (op === 'CreateRepository') {
        const name = String(input.repositoryName);
        if (repositories.has(name)) return reply(400, { __type: 'RepositoryAlreadyExistsException', message: `The repository with name '${name}' already exists` });
        const record: EcrRepositoryRecord = {
          repositoryName: name, imageTagMutability: String(input.imageTagMutability ?? 'MUTABLE'),
          scanOnPush: (input.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush ?? false,
          encryption: (input.encryptionConfiguration as EcrRepositoryRecord['encryption'] | undefined) ?? { encryptionType: 'AES256' },
          tags: (input.tags as EcrRepositoryRecord['tags'] | undefined) ?? [],
        };
        repositories.set(name, record);
        return reply(200, { repository: { repositoryName: name, registryId: '123456789012', repositoryArn: `arn:aws:ecr:us-east-1:123456789012:repository/${name}` } });
      }
      if (op === 'PutLifecyclePolicy') {
        const record = repositories.get(String(input.repositoryName));
        if (!record) return reply(400, { __type: 'RepositoryNotFoundException', message: 'no such repository' });
        record.lifecyclePolicyText = String(input.lifecyclePolicyText);
        return reply(200, { repositoryName: record.repositoryName, lifecyclePolicyText: record.lifecyclePolicyText });
      }
      return reply(400, { __type: 'UnknownOperationException', message: op });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, repositories, calls, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
