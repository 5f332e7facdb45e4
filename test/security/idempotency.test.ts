import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import type { ApiEvent } from '../../functions/handlers/api/http.js';
import { route } from '../../functions/handlers/api/router.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import type { RunningServer } from '../../functions/local/serve.js';
import { silentLogger } from '../../functions/oci/log.js';
import { RunService } from '../../functions/runs/service.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

/** A run that needs no registry: a dry run of an address nothing listens on (it fails at once). */
const body = (image: string) => ({
  images: [`127.0.0.1:1/idem/${image}:v1`],
  destination: { registry: '127.0.0.1:1', prefix: 'mirror' },
  dryRun: true,
});
let counter = 0;
const newKey = () => `key-${Date.now()}-${counter++}`;

describe('Idempotency-Key over ferry serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startService();
  });
  afterAll(async () => {
    await server.close();
  });
  const runCount = async () =>
    ((await api(server.url, 'GET', '/v1/runs?limit=100')).json as { runs: RunView[] }).runs.length;

  it('returns the same run for the same key and the same request, however its JSON is spelled', async () => {
    const key = newKey();
    const first = await api(server.url, 'POST', '/v1/runs', body('a'), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const { runId } = first.json as RunView;
    await waitForRun(server.url, runId);
    // Other key order, defaults spelt out, other whitespace: the same request.
    const respelt = `{ "dryRun": true, "override": true, "destination": { "prefix": "mirror", "registry": "127.0.0.1:1", "insecure": false },\n "images": ["127.0.0.1:1/idem/a:v1"] }`;
    const again = await fetch(`${server.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: respelt,
    });
    expect(again.status).toBe(202);
    expect(again.headers.get('x-ferry-replayed')).toBe('true');
    expect(((await again.json()) as RunView).runId).toBe(runId);
  });

  it('answers 409 naming the key when the same key comes with another request, and writes nothing', async () => {
    const key = newKey();
    const first = await api(server.url, 'POST', '/v1/runs', body('b'), { 'idempotency-key': key });
    await waitForRun(server.url, (first.json as RunView).runId);
    const before = await runCount();
    for (const other of [
      body('c'),
      { ...body('b'), dryRun: false },
      { ...body('b'), destination: { registry: '127.0.0.1:1', prefix: 'elsewhere' } },
    ]) {
      const reused = await api(server.url, 'POST', '/v1/runs', other, { 'idempotency-key': key });
      expect(reused.status).toBe(409);
      expect((reused.json as { message: string }).message).toBe(
        `Idempotency-Key "${key}" was already used for a different request; use a new key for a new run`,
      );
    }
    expect(await runCount()).toBe(before);
    // The key still stands for its first request.
    const replay = await api(server.url, 'POST', '/v1/runs', body('b'), { 'idempotency-key': key });
    expect((replay.json as RunView).runId).toBe((first.json as RunView).runId);
  });

  it('stores the request hash without inline credentials (a changed password replays; no password in the table)', async () => {
    const key = newKey();
    const password = `pw-${newKey()}`;
    const withCreds = (secret: string) => ({
      ...body('creds'),
      sourceCredentials: { '127.0.0.1:1': { username: 'me', password: secret } },
    });
    const first = await api(server.url, 'POST', '/v1/runs', withCreds(password), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    await waitForRun(server.url, (first.json as RunView).runId);
    const retried = await api(server.url, 'POST', '/v1/runs', withCreds(`${password}-rotated`), {
      'idempotency-key': key,
    });
    expect((retried.json as RunView).runId).toBe((first.json as RunView).runId);
    const table = await server.dumpTable();
    expect(table).toContain('requestHash');
    expect(table).not.toContain(password);
  });
});

describe('Idempotency-Key per IAM caller (the deployed API)', () => {
  let dynamo: RunningDynamo;
  let service: RunService;
  const started: string[] = [];
  beforeAll(async () => {
    dynamo = await startDynalite();
    await createRunTable(dynamo.client, 'runs');
    service = new RunService({
      store: new DynamoRunStore({ client: dynamo.client, tableName: 'runs' }),
      vault: new MemoryVault(),
      workflow: {
        start: (runId) => (started.push(runId), Promise.resolve(`exec-${runId}`)),
        stop: () => Promise.resolve(),
      },
    });
  });
  afterAll(() => dynamo?.stop());

  /** POST /v1/runs as API Gateway hands it to the Lambda, signed by `userArn`. */
  const post = async (userArn: string, key: string, request: unknown) => {
    const event: ApiEvent = {
      httpMethod: 'POST',
      path: '/v1/runs',
      body: JSON.stringify(request),
      headers: { 'Idempotency-Key': key, 'Content-Type': 'application/json' },
      requestContext: { identity: { userArn, caller: 'AIDAEXAMPLE', accountId: userArn.split(':')[4] } },
    };
    const res = await route(event, service, silentLogger);
    return { status: res.statusCode, json: JSON.parse(res.body) as RunView & { message?: string } };
  };

  it('never hands one caller the run another caller started under the same key', async () => {
    const key = newKey();
    const alice = 'arn:aws:iam::111122223333:user/alice';
    const mallory = 'arn:aws:iam::444455556666:user/mallory';
    const first = await post(alice, key, body('shared'));
    expect(first.status).toBe(202);
    const other = await post(mallory, key, body('shared'));
    expect(other.status).toBe(202);
    expect(other.json.runId).not.toBe(first.json.runId);
    expect(started).toContain(other.json.runId);
    // Each caller's key keeps its own run and its own request.
    expect((await post(alice, key, body('shared'))).json.runId).toBe(first.json.runId);
    expect((await post(mallory, key, body('shared'))).json.runId).toBe(other.json.runId);
    expect((await post(mallory, key, body('else'))).status).toBe(409);
  });

  it('makes no run-scoped secret for a replay or a conflicting reuse', async () => {
    const stored: string[] = [];
    const vault = new MemoryVault();
    const counting = new RunService({
      store: new DynamoRunStore({ client: dynamo.client, tableName: 'runs' }),
      vault: {
        store: (runId, name, registry, credential) => (
          stored.push(runId),
          vault.store(runId, name, registry, credential)
        ),
        resolve: (ref) => vault.resolve(ref),
        release: (runId) => vault.release(runId),
      },
      workflow: { start: () => Promise.resolve('exec'), stop: () => Promise.resolve() },
    });
    const key = newKey();
    const withCreds = (image: string) =>
      JSON.stringify({ ...body(image), sourceCredentials: { '127.0.0.1:1': { username: 'me', password: 'secret' } } });
    const first = await counting.startRun(withCreds('secret-a'), {
      idempotencyKey: key,
      caller: 'arn:aws:iam::111122223333:user/alice',
    });
    expect(stored).toEqual([first.view.runId]);
    expect(
      (
        await counting.startRun(withCreds('secret-a'), {
          idempotencyKey: key,
          caller: 'arn:aws:iam::111122223333:user/alice',
        })
      ).created,
    ).toBe(false);
    await expect(
      counting.startRun(withCreds('secret-b'), { idempotencyKey: key, caller: 'arn:aws:iam::111122223333:user/alice' }),
    ).rejects.toMatchObject({ name: 'ConflictError' }); // answered 409
    expect(stored).toEqual([first.view.runId]);
  });

  it('binds sync_images keys to their request too', async () => {
    const home = new RunService({
      store: new DynamoRunStore({ client: dynamo.client, tableName: 'runs' }),
      vault: new MemoryVault(),
      workflow: { start: () => Promise.resolve('exec'), stop: () => Promise.resolve() },
      home: {
        registry: '111122223333.dkr.ecr.eu-west-1.amazonaws.com',
        registryForRegion: (r) => `111122223333.dkr.ecr.${r}.amazonaws.com`,
      },
    });
    const key = newKey();
    const sync = (tags: string[]) =>
      route(
        {
          httpMethod: 'POST',
          path: '/v1/repos/team/app/sync_images',
          body: JSON.stringify({ imageTag: tags, remoteNamespace: 'replica', remoteRegionId: 'eu-central-1' }),
          headers: { 'idempotency-key': key },
          requestContext: {
            identity: { userArn: 'arn:aws:iam::111122223333:user/alice', caller: null, accountId: null },
          },
        },
        home,
        silentLogger,
      );
    const first = await sync(['1.0']);
    expect(first.statusCode).toBe(202);
    expect((await sync(['1.0'])).body).toBe(first.body);
    const other = await sync(['2.0']);
    expect(other.statusCode).toBe(409);
    expect((JSON.parse(other.body) as { message: string }).message).toMatch(new RegExp(`^Idempotency-Key "${key}" `));
  });
});
