import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import dynalite from 'dynalite';
import { DynamoBlobIndex } from '../aws/dynamo-blob-index.js';
import { createRunTable, DynamoRunStore } from '../aws/dynamo-run-store.js';
import { DynamoImageSets } from '../aws/dynamo-image-sets.js';
import { EcrAccessFactory } from '../aws/ecr-access.js';
import { Env, type EcrRepositorySettings } from '../contract.js';
import { route } from '../handlers/api/router.js';
import { WorkflowTasks } from '../handlers/workflow/workflow-tasks.js';
import { json, maxBodyBytes } from '../handlers/api/http.js';
import { UsageError } from '../oci/errors.js';
import { silentLogger, type Logger } from '../oci/log.js';
import type { TransportOptions } from '../oci/transport.js';
import { createRunServices } from '../runs/app.js';
import { EcrScope } from '../runs/ecr-scope.js';
import { blobsPerImage, EngineFactory } from '../runs/engine.js';
import { RunCancellations } from '../runs/cancellation.js';
import { ImageSetService } from '../runs/image-sets.js';
import { startSetRun } from '../runs/set-scheduler.js';
import { SettingsService } from '../runs/settings.js';
import { lockDataDir } from './data-dir-lock.js';
import { LocalEvents } from './local-events.js';
import { LocalSetScheduler, type SchedulerClock, systemClock } from './local-set-scheduler.js';
import { LocalWorkflow, mapConcurrency } from './local-workflow.js';
import { MemoryVault } from './memory-vault.js';
import { recoverRuns, type RecoveredRuns } from './recover-runs.js';
import { checkServeExposure, type Refusal, RequestGuard } from './request-guard.js';

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  /** Every request must carry `Authorization: Bearer <token>`; required when `host` is not loopback. */
  readonly token?: string;
  /** Where run state persists (LevelDB); in memory when absent. */
  readonly dataDir?: string;
  readonly logger?: Logger;
  /** Transport settings for every run (registry endpoint overrides, retry timing in tests). */
  readonly transport?: TransportOptions;
  readonly retryIntervalMs?: number;
  /** Settings for ECR repositories Ferry creates. */
  readonly ecrRepositories?: EcrRepositorySettings;
  /** ECR repository prefixes runs may use, as the deployed service's; absent: no limit (the developer's own credentials). */
  readonly ecrRepositoryPrefixes?: readonly string[];
  /** The release signature store (default: FERRY_RELEASE_SIGNATURES_URL); absent: release signatures are not fetched. */
  readonly releaseSignaturesUrl?: string;
  /** sync_images: the registry to replicate from, and region → registry. */
  readonly home?: { registry: string; registryForRegion(region: string): string };
  /** Time and timers of image-set schedules (tests drive them); the system's when absent. */
  readonly clock?: SchedulerClock;
}

export interface RunningServer {
  readonly url: string;
  readonly events: LocalEvents;
  /** Runs an earlier server left in progress on this data directory: resumed, or failed (credentials lost). */
  readonly recovered: RecoveredRuns;
  /** Waits for running workflows (tests). */
  drain(): Promise<void>;
  /** Every item of the run table as stored (audits: no credential may ever appear here). */
  dumpTable(): Promise<string>;
  close(): Promise<void>;
}

/**
 * `ferry serve`: the HTTP API of the deployed service on localhost, on embedded defaults —
 * dynalite for DynamoDB, the synthesized state machine on aws-local-stepfunctions, the same
 * route and task handlers the Lambdas run. No AWS account, no Docker.
 */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  // Before anything starts: an API others can reach needs a token.
  checkServeExposure(options.host ?? '127.0.0.1', options.token);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // One server per data directory: the embedded DynamoDB's files must have one writer.
  const lock = options.dataDir ? lockDataDir(options.dataDir) : undefined;
  try {
    const running = await start(options);
    return {
      ...running,
      close: async () => {
        await running.close();
        lock?.release();
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

async function start(options: ServeOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  // The SDK warns about Node < 22 on every client; locally it only ever talks to dynalite.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const db = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir ? { path: resolve(options.dataDir) } : {}),
  });
  await new Promise<void>((done) => db.listen(0, '127.0.0.1', done));
  const dbPort = (db.address() as AddressInfo).port;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${dbPort}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = 'ferry-runs';
  await createRunTable(client, tableName);

  const store = new DynamoRunStore({ client, tableName });
  const imageSets = new DynamoImageSets({ client, name: tableName });
  // Image-set schedules fire in this process; each fire starts a run as the scheduled-run Lambda does.
  const clock = options.clock ?? systemClock;
  const setSchedules = new LocalSetScheduler({ start: (name) => startSetRun(service, name), clock, logger });
  const sets = {
    imageSets: new ImageSetService(imageSets, () => clock.now(), setSchedules),
    settings: new SettingsService(imageSets),
  };
  const vault = new MemoryVault();
  const ecr = new EcrAccessFactory(options.ecrRepositories ?? {});
  const ecrScope = options.ecrRepositoryPrefixes ? new EcrScope(options.ecrRepositoryPrefixes) : undefined;
  const definitionFile = workflowDefinitionFile();
  const blobIndex = new DynamoBlobIndex({ client, tableName });
  const engines = new EngineFactory({
    vault,
    logger,
    // Every Map iteration runs in this process: give each image the blob streams its own Lambda would have.
    blobConcurrency: blobsPerImage * mapConcurrency(definitionFile),
    // The Lambdas' blob index, in this server's table: a layer an earlier run put into a sibling
    // repository is mounted, not streamed again (across restarts with --data-dir). Only blobs of
    // 1 MiB and up pay its round trips. Not its leases: they order processes, and a data dir has
    // one server — a lease in the table is a killed predecessor's, which a resumed copy would wait out.
    sharedBlobs: { index: blobIndex },
    // ECR hosts (through FERRY_REGISTRY_ENDPOINTS locally) authenticate with the default AWS chain.
    ecr: (roleArn) => ecr.forRole(roleArn),
    ...(options.transport ? { transport: options.transport } : {}),
    ...(ecrScope ? { ecrScope } : {}),
    ...(process.env[Env.updateUrlOverride] ? { updateGraphUrl: process.env[Env.updateUrlOverride] } : {}),
    ...((options.releaseSignaturesUrl ?? process.env[Env.releaseSignaturesUrl])
      ? { releaseSignaturesUrl: options.releaseSignaturesUrl ?? process.env[Env.releaseSignaturesUrl]! }
      : {}),
  });
  const events = new LocalEvents(logger);
  // The workflow runs the tasks in this process, on the state machine the stack deploys.
  const { service, workflow, outputs } = createRunServices({
    store,
    vault,
    events,
    engines,
    logger,
    cancellations: new RunCancellations(),
    workflow: (tasks) =>
      new LocalWorkflow({
        definitionFile,
        logger,
        tasks: new WorkflowTasks(tasks).handlers(),
        ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
      }),
    settings: imageSets,
    imageSets,
    ...(options.home ? { home: options.home } : {}),
    ...(ecrScope ? { ecrScope } : {}),
  });

  // Set once listening: the guard checks the port actually bound (--port 0).
  const bound: { guard?: RequestGuard } = {};
  const server: Server = createServer((req, res) => {
    // Refused before the body is read: nothing of a refused request reaches the API.
    const guard = bound.guard;
    if (guard === undefined) return refuse(req, res, { status: 503, message: 'ferry serve is starting' });
    const refusal = guard.check({ method: req.method ?? 'GET', headers: req.headers });
    if (refusal !== undefined) return refuse(req, res, refusal);
    const caller = guard.caller();
    readBody(req)
      .then(async (body) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const response =
          body === undefined
            ? json(400, { message: `request body is larger than ${maxBodyBytes} bytes` })
            : await route(
                {
                  httpMethod: req.method ?? 'GET',
                  path: url.pathname,
                  body,
                  headers: Object.fromEntries(
                    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
                  ),
                  queryStringParameters: Object.fromEntries(url.searchParams),
                  requestContext: { identity: { caller, userArn: undefined, accountId: undefined } },
                },
                service,
                logger,
                sets,
                outputs,
              );
        res.writeHead(response.statusCode, response.headers).end(response.body);
      })
      .catch((err: unknown) => {
        logger.warn('request failed', { error: String(err) });
        if (!res.headersSent)
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"internal error"}');
      });
  });
  const port = options.port ?? 8080;
  const listenHost = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, listenHost, () => {
        server.off('error', fail);
        done();
      });
    });
  } catch (err) {
    await engines.close();
    client.destroy();
    await new Promise<void>((done) => db.close(() => done()));
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot listen on ${listenHost}:${port}: ${code === 'EADDRINUSE' ? 'the address is in use (--port 0 picks a free port)' : (code ?? String(err))}`,
    );
  }
  // Once the address is ours (a server that cannot listen resumes nothing); requests meanwhile get a 503.
  const none: RecoveredRuns = { resumed: [], failed: [] };
  const recovered = options.dataDir
    ? await recoverRuns({ store, vault, workflow, events, logger }).catch(
        (err: unknown) => (logger.warn('could not look for runs left in progress', { error: String(err) }), none),
      )
    : none;
  // Stored sets' schedules (a data directory keeps them across restarts) fire from now on.
  await setSchedules
    .armStored(imageSets)
    .catch((err: unknown) => logger.warn('could not arm image-set schedules', { error: String(err) }));
  const address = server.address() as AddressInfo;
  bound.guard = new RequestGuard(listenHost, address.port, options.token);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    events,
    recovered,
    drain: async () => {
      await setSchedules.idle();
      await workflow.drain();
    },
    dumpTable: async () => {
      const items: unknown[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start as never } : {}) }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return JSON.stringify(items);
    },
    close: async () => {
      setSchedules.close();
      await new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await setSchedules.idle();
      await workflow.drain();
      await engines.close();
      client.destroy();
      await new Promise<void>((done) => db.close(() => done()));
    },
  };
}

/**
 * The ASL `npm run build` extracts from the synthesized stack: beside the compiled code
 * (dist/functions/local → dist/workflow.asl.json), or under dist/ when running from source.
 */
function workflowDefinitionFile(): string {
  const candidates = [
    resolve(import.meta.dirname, '..', '..', 'workflow.asl.json'),
    resolve(import.meta.dirname, '..', '..', 'dist', 'workflow.asl.json'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(
      'dist/workflow.asl.json is missing: run `npm run build` (it synthesizes the stack and extracts the workflow)',
    );
  return found;
}

/** Answers a refused request without reading its body, and closes the connection. */
function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  req.resume();
  res
    .writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close', ...refusal.headers })
    .end(JSON.stringify({ message: refusal.message }));
}

/** The request body, or undefined when it exceeds the API's limit (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<string | null | undefined> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () =>
      resolvePromise(tooLarge ? undefined : size === 0 ? null : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}
