import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { freePort, waitFor } from './ports.js';

export interface RunningDynamo {
  readonly name: string;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

const clientFor = (port: number) =>
  new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });

/** dynalite in-process (the embedded engine of `ferry serve`). */
export async function startDynalite(): Promise<RunningDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = clientFor((server.address() as AddressInfo).port);
  return {
    name: 'dynalite',
    client,
    stop: () =>
      new Promise((resolve) => {
        client.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * AWS's own DynamoDB Local (the jar inside amplify-dynamodb-simulator), in memory, on a random
 * port; needs a JRE (.ci/run installs openjdk-17-jre-headless).
 */
export async function startDynamoDbLocal(): Promise<RunningDynamo> {
  const require = createRequire(import.meta.url);
  const emulator = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = await freePort();
  const child: ChildProcess = spawn(
    'java',
    [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    {
      cwd: emulator,
      stdio: 'ignore',
    },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  const client = clientFor(port);
  await waitFor(
    async () => {
      if (exited) throw new Error('DynamoDB Local exited (is a JRE installed?)');
      await client.send(new ListTablesCommand({}));
      return true;
    },
    'DynamoDB Local',
    800,
  );
  return {
    name: 'DynamoDB Local',
    client,
    stop: () =>
      new Promise((resolve) => {
        client.destroy();
        if (exited) resolve();
        else {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }
      }),
  };
}
