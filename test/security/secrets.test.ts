import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { SecretsManagerVault } from '../../functions/aws/secrets-vault.js';
import { LocalEvents } from '../../functions/local/local-events.js';
import { MemoryVault } from '../../functions/local/memory-vault.js';
import { silentLogger } from '../../functions/oci/log.js';
import { EngineFactory } from '../../functions/runs/engine.js';
import type { CredentialRef, RunRecord } from '../../functions/runs/model.js';
import type { CredentialVault } from '../../functions/runs/ports.js';
import { sweepRunSecrets } from '../../functions/runs/sweep-secrets.js';
import { WorkflowTasks } from '../../functions/handlers/workflow/workflow-tasks.js';
import { RunTasks } from '../../functions/runs/tasks.js';
import { createApp } from '../../infra/app.js';
import { parseFerryConfig } from '../../infra/config.js';
import { type RunningDynamo, startDynalite } from '../support/dynamodb.js';
import { basicHeader } from '../support/engine.js';
import { FakeSecretsManager } from '../support/fake-secrets-manager.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';

const { seed, dst, basic } = inject('registries');
const rng = new Rng(seed + 707);

/** A registry that wants Basic auth for everything and records every Authorization header it is sent. */
async function startRecordingRegistry(): Promise<{
  host: string;
  requests: string[];
  authorizations: string[];
  stop(): Promise<void>;
}> {
  const requests: string[] = [];
  const authorizations: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== undefined) authorizations.push(req.headers.authorization);
    req.resume();
    res.writeHead(401, {
      'www-authenticate': 'Basic realm="b"',
      'docker-distribution-api-version': 'registry/2.0',
      'content-type': 'application/json',
    });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, requests, authorizations, stop: () => new Promise((r) => server.close(() => r())) };
}

let dynamo: RunningDynamo;
let store: DynamoRunStore;
let registryB: Awaited<ReturnType<typeof startRecordingRegistry>>;
beforeAll(async () => {
  dynamo = await startDynalite();
  await createRunTable(dynamo.client, 'ferry-runs');
  store = new DynamoRunStore({ client: dynamo.client, tableName: 'ferry-runs' });
  registryB = await startRecordingRegistry();
});
afterAll(async () => {
  await registryB.stop();
  await dynamo.stop();
});

function tasksWith(vault: CredentialVault): WorkflowTasks {
  return new WorkflowTasks(
    new RunTasks({
      store,
      engines: new EngineFactory({ vault, logger: silentLogger }),
      events: new LocalEvents(silentLogger),
      logger: silentLogger,
      vault,
    }),
  );
}

/** Stores a one-image run and returns its id. */
async function createRun(
  source: string,
  destination: { registry: string; credentials?: CredentialRef },
  sourceCredentials: Record<string, CredentialRef> = {},
): Promise<string> {
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
      destination: { ...destination, insecure: false },
      sourceCredentials,
      platforms: [],
      referrers: false,
      override: true,
      failFast: false,
      dryRun: false,
    },
  };
  const repository = source.slice(source.indexOf('/') + 1).replace(/:.*$/, '');
  await store.createRun(run, [
    { runId, index: 0, source, destination: `${destination.registry}/${repository}:v1`, status: 'pending' },
  ]);
  return runId;
}

describe('a registry secret is sent only to the registry it is bound to', () => {
  it('fails the image with a clear message when a secret bound to registry A is named for registry B, and B never sees an Authorization header', async () => {
    const sm = new FakeSecretsManager();
    const secretArn = sm.put(
      'team/registry-a',
      { username: 'alice', password: 'wonderland' },
      { 'ferry:registry': 'registry-a.example' },
    );
    const runId = await createRun(
      `${registryB.host}/app:v1`,
      { registry: dst.host },
      { [registryB.host]: { secretArn } },
    );
    const before = registryB.requests.length;
    const plan = await tasksWith(new SecretsManagerVault(sm.client)).plan({ runId });
    expect(plan.proceed).toBe(false);
    const image = await store.getImage(runId, 0);
    expect(image?.status).toBe('failed');
    expect(image?.message).toBe(
      `credential ${secretArn} is bound to registry registry-a.example, not ${registryB.host}: Ferry sends a secret only to the registry it names (tag ferry:registry or its "registry" field)`,
    );
    expect(registryB.requests.length).toBeGreaterThan(before); // B was reached (anonymously) …
    expect(registryB.authorizations).toEqual([]); // … and never with the secret.
  });

  it('fails the run at Plan when the destination credential is bound to another registry; the destination sees no Authorization header', async () => {
    const sm = new FakeSecretsManager();
    const secretArn = sm.put('team/other', {
      username: 'alice',
      password: 'wonderland',
      registry: 'registry-a.example',
    });
    const runId = await createRun(`${basic.host}/nothing:v1`, { registry: registryB.host, credentials: { secretArn } });
    await tasksWith(new SecretsManagerVault(sm.client)).plan({ runId });
    const run = await store.getRun(runId);
    expect(run?.status).toBe('failed');
    expect(run?.message).toContain(
      `destination ${registryB.host}/nothing: credential ${secretArn} is bound to registry registry-a.example, not ${registryB.host}`,
    );
    expect(registryB.authorizations).toEqual([]);
  });

  it('sends a secret to the registry it is bound to (the control: a real htpasswd registry, by tag and by field)', async () => {
    const repository = `secrets/bound-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(3_000)] });
    await push(basic.url, repository, 'v1', image, basicHeader(basic.username, basic.password));
    const sm = new FakeSecretsManager();
    const byTag = sm.put(
      'team/basic-tag',
      { username: basic.username, password: basic.password },
      { 'ferry:registry': basic.host },
    );
    const byField = sm.put('team/basic-field', {
      username: basic.username,
      password: basic.password,
      registry: basic.host,
    });
    const statuses: string[] = [];
    for (const secretArn of [byTag, byField]) {
      const runId = await createRun(
        `${basic.host}/${repository}:v1`,
        { registry: dst.host },
        { [basic.host]: { secretArn } },
      );
      const tasks = tasksWith(new SecretsManagerVault(sm.client));
      const plan = await tasks.plan({ runId });
      expect(plan.indexes).toEqual([0]);
      statuses.push((await tasks.copyImage({ runId, index: 0 })).status);
    }
    expect(statuses).toEqual(['completed', 'skipped']); // the second run finds the destination up to date
    expect(await remoteDigest(dst.url, repository, 'v1')).toBe(image.digest);
  });

  it("binds ferry serve's in-memory credentials the same way", async () => {
    const vault = new MemoryVault();
    const ref = await vault.store('run-x', 'destination', 'registry-a.example', {
      kind: 'basic',
      username: 'alice',
      password: 'wonderland',
    });
    const runId = await createRun(`${registryB.host}/app:v1`, { registry: dst.host }, { [registryB.host]: ref });
    await tasksWith(vault).plan({ runId });
    expect((await store.getImage(runId, 0))?.message).toContain(
      `is bound to registry registry-a.example, not ${registryB.host}`,
    );
    expect(registryB.authorizations).toEqual([]);
  });
});

describe('the Secrets Manager vault reads registry secrets strictly', () => {
  const resolveError = async (sm: FakeSecretsManager, secretArn: string): Promise<string> => {
    const err = await new SecretsManagerVault(sm.client).resolve({ secretArn }).then(
      () => undefined,
      (e: unknown) => e as Error & { code: string; retryable: boolean },
    );
    expect(err).toMatchObject({ name: 'CredentialError', retryable: false });
    return err!.message;
  };

  it('refuses a secret with keys other than username, password, registry (an RDS secret), naming the keys but never the values', async () => {
    const sm = new FakeSecretsManager();
    const arn = sm.put(
      'rds!db-1',
      { username: 'admin', password: 's3cr3t-db', engine: 'postgres', host: 'db.internal', port: 5432, dbname: 'app' },
      { 'ferry:registry': 'evil.example' },
    );
    const message = await resolveError(sm, arn);
    expect(message).toBe(
      `secret ${arn} must hold exactly {"username", "password", "registry"?} or {"auth", "registry"?} (it holds: username, password, engine, host, port, dbname)`,
    );
    expect(message).not.toContain('s3cr3t');
  });

  it('refuses a secret bound to no registry, or to two', async () => {
    const sm = new FakeSecretsManager();
    const unbound = sm.put('team/unbound', { username: 'u', password: 'p' });
    expect(await resolveError(sm, unbound)).toContain(
      'is bound to no registry: tag it ferry:registry=<host> or add a "registry" field',
    );
    const two = sm.put(
      'team/two',
      { username: 'u', password: 'p', registry: 'a.example' },
      { 'ferry:registry': 'b.example' },
    );
    expect(await resolveError(sm, two)).toContain('names two registries');
  });

  it('says a secret IAM does not let it read cannot be read, and why', async () => {
    const sm = new FakeSecretsManager();
    const arn = sm.put('prod/db', { username: 'u', password: 'p' });
    sm.denied.add(arn);
    expect(await resolveError(sm, arn)).toBe(
      `secret ${arn} cannot be read by Ferry (AccessDeniedException): it reads only its run secrets, secrets tagged ferry:registry and the ARNs in registrySecretArns`,
    );
  });

  it('accepts Docker config\'s {"auth"} form with its registry', async () => {
    const sm = new FakeSecretsManager();
    const arn = sm.put('team/docker', { auth: Buffer.from('bob:hunter2').toString('base64'), registry: 'ghcr.io' });
    expect(await new SecretsManagerVault(sm.client).resolve({ secretArn: arn })).toEqual({
      credential: { kind: 'basic', username: 'bob', password: 'hunter2' },
      registry: 'ghcr.io',
    });
  });
});

describe('run-scoped secrets', () => {
  it('are created under ferry/runs/<runId>/, bound to their registry by tag and field', async () => {
    const sm = new FakeSecretsManager();
    const vault = new SecretsManagerVault(sm.client);
    const ref = await vault.store('run-1', 'source-quay.io', 'quay.io', {
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    const created = sm.commands.find((c) => c.name === 'CreateSecretCommand')!.input;
    expect(created).toMatchObject({
      Name: 'ferry/runs/run-1/source-quay.io',
      Tags: [
        { Key: 'ferry:run', Value: 'run-1' },
        { Key: 'ferry:registry', Value: 'quay.io' },
      ],
    });
    expect(JSON.parse(String(created.SecretString))).toEqual({ username: 'u', password: 'p', registry: 'quay.io' });
    expect(await vault.resolve(ref)).toEqual({
      credential: { kind: 'basic', username: 'u', password: 'p' },
      registry: 'quay.io',
    });
  });

  it('are deleted for good when the run finishes (Finish), and nothing else is', async () => {
    const sm = new FakeSecretsManager();
    const vault = new SecretsManagerVault(sm.client);
    const operators = sm.put('team/registry', { username: 'u', password: 'p' }, { 'ferry:registry': 'quay.io' });
    const runId = await createRun(`${registryB.host}/app:v1`, { registry: dst.host });
    await vault.store(runId, 'destination', dst.host, { kind: 'basic', username: 'u', password: 'p' });
    await vault.store(runId, `source-${registryB.host}`, registryB.host, {
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    const other = await vault.store(`${runId}0`, 'destination', dst.host, {
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    await tasksWith(vault).finish({ runId });
    const deletes = sm.commands.filter((c) => c.name === 'DeleteSecretCommand').map((c) => c.input);
    expect(deletes).toEqual([
      { SecretId: `ferry/runs/${runId}/destination`, ForceDeleteWithoutRecovery: true },
      { SecretId: `ferry/runs/${runId}/source-${registryB.host.replace(':', '-')}`, ForceDeleteWithoutRecovery: true },
    ]);
    expect([...sm.secrets.keys()].sort()).toEqual([operators, other.secretArn].sort());
  });

  it("are forgotten by ferry serve's vault when the run finishes", async () => {
    const vault = new MemoryVault();
    const runId = await createRun(`${registryB.host}/app:v1`, { registry: dst.host });
    await vault.store(runId, 'destination', dst.host, { kind: 'basic', username: 'u', password: 'p' });
    await vault.store('another-run', 'destination', dst.host, { kind: 'basic', username: 'u', password: 'p' });
    await tasksWith(vault).finish({ runId });
    expect(vault.size).toBe(1);
  });

  it("of runs that ended, never existed or are past their age are swept; young ones and running runs' are kept", async () => {
    const sm = new FakeSecretsManager();
    const vault = new SecretsManagerVault(sm.client);
    const now = new Date('2026-12-03T12:00:00Z');
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
    const running = await createRun(`${registryB.host}/app:v1`, { registry: dst.host });
    const ended = await createRun(`${registryB.host}/app:v1`, { registry: dst.host });
    await store.finishRun(ended, { status: 'failed', imagesProcessed: 0, imagesFailed: 0, bytesCopied: 0 });
    const stale = await createRun(`${registryB.host}/app:v1`, { registry: dst.host });
    sm.put(`ferry/runs/${running}/destination`, '{}', {}, hoursAgo(2));
    sm.put(`ferry/runs/${ended}/destination`, '{}', {}, hoursAgo(2));
    sm.put('ferry/runs/orphan-run/destination', '{}', {}, hoursAgo(1));
    sm.put('ferry/runs/just-created/destination', '{}', {}, hoursAgo(0.1));
    sm.put(`ferry/runs/${stale}/destination`, '{}', {}, hoursAgo(80));
    sm.put('team/registry', '{}', {}, hoursAgo(1000));
    const released = await sweepRunSecrets({ inventory: vault, vault, store, maxAgeHours: 72, now });
    expect(released.sort()).toEqual([ended, 'orphan-run', stale].sort());
    expect([...sm.secrets.values()].map((s) => s.name).sort()).toEqual(
      [`ferry/runs/${running}/destination`, 'ferry/runs/just-created/destination', 'team/registry'].sort(),
    );
  });
});

describe('schedules in cdk.json', () => {
  const schedule = (run: Record<string, unknown>) => ({
    schedules: [
      {
        name: 'nightly',
        expression: 'rate(1 day)',
        run: {
          images: ['quay.io/org/app:1'],
          destination: { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
          ...run,
        },
      },
    ],
  });

  it.each([
    [
      'destination credentials',
      { destination: { registry: 'r.example', credentials: { username: 'u', password: 'p' } } },
      'run.destination.credentials',
    ],
    [
      'source credentials',
      { sourceCredentials: { 'quay.io': { username: 'u', password: 'p' } } },
      'run.sourceCredentials["quay.io"]',
    ],
    ['a password anywhere', { extra: { nested: [{ password: 'p' }] } }, 'run.extra.nested[0].password'],
  ])('refuse inline credentials (%s), naming the schedule', (_, run, where) => {
    expect(() => parseFerryConfig(schedule(run))).toThrow(
      `schedule "nightly": ${where} holds inline credentials, which would be stored in plaintext in the template and the Scheduler target`,
    );
    expect(() => createApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ferry: schedule(run) } }))).toThrow(
      'schedule "nightly"',
    );
  });

  it('take no registrySecretArns that would opt in every secret', () => {
    expect(() =>
      parseFerryConfig({ registrySecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:*'] }),
    ).toThrow(/registrySecretArns/);
    expect(
      parseFerryConfig({ registrySecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry/quay-*'] })
        .registrySecretArns,
    ).toHaveLength(1);
    expect(parseFerryConfig({}).ecrRepositoryPrefixes).toEqual([]);
  });

  it('accept Secrets Manager references', () => {
    const config = parseFerryConfig(
      schedule({
        sourceCredentials: {
          'quay.io': { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:quay-abc' },
        },
      }),
    );
    expect(config.schedules[0]!.name).toBe('nightly');
  });
});
