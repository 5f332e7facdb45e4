import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { LocalEvents } from '../../functions/local/local-events.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import type { RunningServer } from '../../functions/local/serve.js';
import { ecrHostFor } from '../../functions/oci/ecr-host.js';
import { silentLogger } from '../../functions/oci/log.js';
import { ecrRepositoryPattern } from '../../functions/contract.js';
import { EcrScope, parseEcrRepositoryPrefixes } from '../../functions/runs/ecr-scope.js';
import { EngineFactory } from '../../functions/runs/engine.js';
import type { RunRecord } from '../../functions/runs/model.js';
import { WorkflowTasks } from '../../functions/handlers/workflow/workflow-tasks.js';
import { RunTasks } from '../../functions/runs/tasks.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';
import { Rng } from '../support/fixtures.js';
import { cleanEnv } from '../support/cli.js';
import { startServeProcess } from '../support/serve-process.js';
import { api, startService } from '../support/service.js';

const { seed, dst } = inject('registries');
const rng = new Rng(seed + 808);
const account = '123456789012';
const ecrHost = ecrHostFor(account, 'eu-west-1');
const configure = 'set "ecrRepositoryPrefixes" in cdk.json\'s "ferry" context';

describe('the API refuses ECR repositories outside the configured prefixes (400, nothing written)', () => {
  const servers: RunningServer[] = [];
  const start = async (ecrRepositoryPrefixes: string[]) => {
    const server = await startService({
      // Names resolve to a closed loopback port: a run wrongly accepted fails at once, it looks up no public name.
      transport: {
        endpoints: new Map(
          [ecrHost, `${ecrHost}:443`, ecrHostFor(account, 'us-west-2'), 'quay.io', 'evil.example'].map((h) => [
            h,
            'http://127.0.0.1:1',
          ]),
        ),
        retry: { attempts: 1 },
      },
      ecrRepositoryPrefixes,
      home: { registry: ecrHost, registryForRegion: (region) => ecrHostFor(account, region) },
    });
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const post = async (server: RunningServer, path: string, body: object) => {
    const res = await api(server.url, 'POST', path, body);
    expect(res.status).toBe(400);
    expect(((await api(server.url, 'GET', '/v1/runs')).json as { runs: unknown[] }).runs).toEqual([]);
    return (res.json as { message: string }).message;
  };

  it('with no prefixes configured (the default), refuses any ECR repository and says what to configure', async () => {
    const server = await start([]);
    expect(
      await post(server, '/v1/runs', {
        images: ['quay.io/org/app:1'],
        destination: { registry: ecrHost, prefix: 'mirror' },
      }),
    ).toBe(
      `destination: ECR repository ${ecrHost}/mirror/org/app: this deployment may use no ECR repository; ${configure} (e.g. ["mirror/"]) and deploy again`,
    );
  });

  it('refuses a destination outside the prefixes', async () => {
    const server = await start(['mirror/', 'team-a/*']);
    expect(
      await post(server, '/v1/runs', {
        images: ['quay.io/org/app:1'],
        destination: { registry: ecrHost, prefix: 'prod' },
      }),
    ).toBe(
      `destination: ECR repository ${ecrHost}/prod/org/app is outside the repository prefixes this deployment may use (mirror/, team-a/*); add a prefix to "ecrRepositoryPrefixes" in cdk.json's "ferry" context`,
    );
  });

  it('sees an ECR host written with :443 as ECR (the same endpoint), as destination and as source', async () => {
    const server = await start(['mirror/']);
    expect(
      await post(server, '/v1/runs', {
        images: ['quay.io/org/app:1'],
        destination: { registry: `${ecrHost}:443`, prefix: 'prod' },
      }),
    ).toBe(
      `destination: ECR repository ${ecrHost}:443/prod/org/app is outside the repository prefixes this deployment may use (mirror/); add a prefix to "ecrRepositoryPrefixes" in cdk.json's "ferry" context`,
    );
    expect(
      await post(server, '/v1/runs', {
        images: [`${ecrHost}:443/private/db:1`],
        destination: { registry: 'evil.example' },
      }),
    ).toMatch(/^images\[0\]: ECR repository .*:443\/private\/db is outside the repository prefixes/);
  });

  it('refuses reading a private ECR repository outside the prefixes out to another registry', async () => {
    const server = await start(['mirror/']);
    expect(
      await post(server, '/v1/runs', {
        images: ['quay.io/org/ok:1', `${ecrHost}/private/db:1`],
        destination: { registry: 'evil.example' },
      }),
    ).toMatch(
      new RegExp(
        `^images\\[1\\]: ECR repository ${ecrHost.replaceAll('.', '\\.')}/private/db is outside the repository prefixes`,
      ),
    );
  });

  it('applies to sync_images too', async () => {
    const server = await start(['mirror/']);
    expect(
      await post(server, '/v1/repos/team/app/sync_images', {
        imageTag: ['v1'],
        remoteNamespace: 'mirror',
        remoteRegionId: 'us-west-2',
      }),
    ).toMatch(/^images\[0\]: ECR repository .*\/team\/app is outside/);
  });
});

describe('the ferry serve command', () => {
  it("limits ECR only when FERRY_ECR_REPOSITORY_PREFIXES is set (the developer's own credentials otherwise)", async () => {
    const env = cleanEnv({
      FERRY_ECR_REPOSITORY_PREFIXES: 'mirror/, team/',
      FERRY_REGISTRY_ENDPOINTS: `${ecrHost}=http://127.0.0.1:1`,
    });
    const server = await startServeProcess([], env);
    try {
      const res = await api(server.url, 'POST', '/v1/runs', {
        images: ['quay.io/org/app:1'],
        destination: { registry: ecrHost, prefix: 'prod' },
      });
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toContain(
        'is outside the repository prefixes this deployment may use (mirror/, team/)',
      );
    } finally {
      await server.stop();
    }
  });

  it('refuses to start with a prefix that is not a namespace or an explicit wildcard (mirror would grant mirror-evil/x)', async () => {
    const outcome = await startServeProcess([], cleanEnv({ FERRY_ECR_REPOSITORY_PREFIXES: 'mirror/,mirror' })).then(
      async (server) => {
        await server.stop();
        return 'it started';
      },
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/FERRY_ECR_REPOSITORY_PREFIXES: "mirror" must end in "\/"/);
  });
});

describe('the copy engine refuses out-of-scope ECR repositories before any request (runs that did not come through the API)', () => {
  let dynamo: RunningDynamo;
  let store: DynamoRunStore;
  let requests: string[];
  let stand: Server;
  let standIn: string;
  beforeAll(async () => {
    dynamo = await startDynalite();
    await createRunTable(dynamo.client, 'ferry-runs');
    store = new DynamoRunStore({ client: dynamo.client, tableName: 'ferry-runs' });
    requests = [];
    stand = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
    standIn = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => stand.close(() => r()));
    await dynamo.stop();
  });

  const planRun = async (scope: EcrScope | undefined, source: string, destination: string) => {
    const runId = `run-${rng.int(1e9)}`;
    const run: RunRecord = {
      runId,
      status: 'in-progress',
      startTime: new Date().toISOString(),
      endTime: null,
      totalImages: 1,
      imagesProcessed: 0,
      imagesFailed: 0,
      bytesCopied: 0,
      options: {
        destination: { registry: destination.split('/')[0]!, insecure: false },
        sourceCredentials: {},
        platforms: [],
        referrers: false,
        override: true,
        failFast: false,
        dryRun: true,
      },
    };
    await store.createRun(run, [{ runId, index: 0, source, destination, status: 'pending' }]);
    // The ECR host resolves to a loopback stand-in: a request, if any were made, would land there.
    const engines = new EngineFactory({
      vault: new MemoryVault(),
      logger: silentLogger,
      transport: { endpoints: new Map([[ecrHost, standIn]]) },
      ...(scope ? { ecrScope: scope } : {}),
    });
    await new WorkflowTasks(
      new RunTasks({ store, engines, events: new LocalEvents(silentLogger), logger: silentLogger }),
    ).plan({
      runId,
    });
    return { run: await store.getRun(runId), image: await store.getImage(runId, 0) };
  };

  it('fails the run at Plan for an out-of-scope destination, with no request to ECR', async () => {
    requests.length = 0;
    const { run } = await planRun(new EcrScope(['mirror/']), `${dst.host}/x/app:1`, `${ecrHost}/prod/app:1`);
    expect(run).toMatchObject({
      status: 'failed',
      message: `destination ${ecrHost}/prod/app: ECR repository ${ecrHost}/prod/app is outside the repository prefixes this deployment may use (mirror/); add a prefix to "ecrRepositoryPrefixes" in cdk.json's "ferry" context`,
    });
    expect(requests).toEqual([]);
  });

  it('fails the image for an out-of-scope source, with no request to ECR', async () => {
    requests.length = 0;
    const { image } = await planRun(new EcrScope([]), `${ecrHost}/private/db:1`, `${dst.host}/stolen/db:1`);
    expect(image).toMatchObject({
      status: 'failed',
      message: expect.stringContaining(
        `ECR repository ${ecrHost}/private/db: this deployment may use no ECR repository; ${configure}`,
      ) as unknown,
    });
    expect(requests).toEqual([]);
  });

  it("reaches ECR when no scope is configured (ferry serve, the CLI: the developer's own credentials) — the control", async () => {
    requests.length = 0;
    await planRun(undefined, `${ecrHost}/private/db:1`, `${dst.host}/copied/db:1`);
    expect(requests.length).toBeGreaterThan(0);
  });

  it("matches prefixes as the IAM patterns the stack grants do (the stack's own helper; test/infra/stack.test.ts checks the template)", () => {
    const prefixes = ['mirror/', 'team-*/cache/', '*.io/x*', 'exact-*'];
    const scope = new EcrScope(prefixes);
    // IAM's matching of a resource name pattern: `*` any characters (`/` too), `?` one, the rest literal.
    const iamMatches = (pattern: string, name: string): boolean =>
      new RegExp(
        `^${pattern
          .split('')
          .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
          .join('')}$`,
      ).test(name);
    const names = [
      'mirror/a',
      'mirror/a/b',
      'mirror',
      'mirror-evil/x',
      'mirrorx/a',
      'prod/mirror/a',
      'team-a/cache/x',
      'team-b/cache/x/y',
      'team/cache/x',
      'team-a/cache',
      'quay.io/x',
      'quay.io/xy/z',
      'quay/x',
      'exact-',
      'exact-x/y',
      'exact',
    ];
    const granted = names.filter((name) => prefixes.some((p) => iamMatches(ecrRepositoryPattern(p), name)));
    expect(names.filter((name) => scope.refusal(ecrHost, name) === undefined)).toEqual(granted);
    expect(granted).not.toContain('mirror-evil/x');
    expect(scope.refusal('quay.io', 'anything')).toBeUndefined();
    expect(scope.refusal(`${ecrHost}:443`, 'prod/x')).toMatch(/outside the repository prefixes/);
    expect(scope.refusal(`${ecrHost}:443`, 'mirror/x')).toBeUndefined();
    expect(scope.refusal(`${ecrHost}:8443`, 'mirror/x')).toBe(
      `ECR registry ${ecrHost}:8443: ECR listens on port 443 only`,
    );
  });

  it('takes only prefixes that end in / or * (a bare name would match other repositories too), from one comma-separated format', () => {
    expect(parseEcrRepositoryPrefixes(' mirror/, team-* ,')).toEqual(['mirror/', 'team-*']);
    expect(parseEcrRepositoryPrefixes('')).toEqual([]);
    expect(() => parseEcrRepositoryPrefixes('mirror/,mirror')).toThrow(
      'FERRY_ECR_REPOSITORY_PREFIXES: "mirror" must end in "/" (every repository under it, e.g. "mirror/") or "*" (every name that starts so, e.g. "mirror-*")',
    );
    expect(() => parseEcrRepositoryPrefixes('Mirror/')).toThrow(/"Mirror\/" must be an ECR repository name prefix/);
    expect(() => new EcrScope(['mirror'])).toThrow(/"mirror" must end in/);
  });
});
