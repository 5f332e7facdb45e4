/**
 * `npm run demo`: Ferry's main job on embedded defaults — no AWS account, no Docker. Starts two
 * local registries (Debian's docker-registry), publishes a two-platform image and a signature
 * to the first, runs `ferry copy --referrers` into the second, then starts `ferry serve` (the
 * service's API on dynalite and the synthesized state machine) and mirrors three images
 * through `POST /v1/runs`, following the run with `GET /v1/runs/{id}`.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { buildImage, buildIndex, push, remoteDigest, Rng } from '../test/support/fixtures.js';
import { startRegistry } from '../test/support/registry-process.js';
import { serve } from '../functions/local/serve.js';

const root = resolve(import.meta.dirname, '..', '..');
const rng = new Rng(Date.now() % 2 ** 31);
const source = await startRegistry();
const destination = await startRegistry();
try {
  const amd64 = buildImage({ layers: [rng.bytes(3 << 20), rng.bytes(1 << 20)] });
  const arm64 = buildImage({ layers: [rng.bytes(3 << 20)], platform: { os: 'linux', architecture: 'arm64' } });
  const index = buildIndex([
    { image: amd64, platform: { os: 'linux', architecture: 'amd64' } },
    { image: arm64, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  await push(source.url, 'demo/app', '1.0', index);
  await push(source.url, 'demo/app', `sha256-${index.digest.slice(7)}.sig`, buildImage({ layers: [rng.bytes(400)] }));
  const args = ['copy', '--referrers', `${source.host}/demo/app:1.0`, `${destination.host}/mirror/demo/app:1.0`];
  process.stdout.write(`$ ferry ${args.join(' ')}\n`);
  const code = await new Promise<number | null>((done) => {
    spawn(process.execPath, [join(root, 'bin', 'ferry.js'), ...args], { stdio: 'inherit' }).on('close', done);
  });
  const copied = await remoteDigest(destination.url, 'mirror/demo/app', '1.0');
  process.stdout.write(`source digest      ${index.digest}\ndestination digest ${copied ?? '(missing)'}\n\n`);
  if (code !== 0 || copied !== index.digest) process.exitCode = 1;

  for (const name of ['web', 'worker'])
    await push(source.url, `demo/${name}`, '2.0', buildImage({ layers: [rng.bytes(2 << 20)] }));
  const server = await serve({ port: 0 });
  try {
    const body = {
      images: [`${source.host}/demo/app:1.0`, `${source.host}/demo/web:2.0`, `${source.host}/demo/worker:2.0`],
      destination: { registry: destination.host, prefix: 'service' },
    };
    process.stdout.write(
      `$ curl -X POST ${server.url}/v1/runs -H 'Content-Type: application/json' -d '${JSON.stringify(body)}'\n`,
    );
    const started = (await (
      await fetch(`${server.url}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json()) as { runId: string };
    let run: { status: string; images: Record<string, { status: string; digest?: string }> };
    do {
      run = (await (await fetch(`${server.url}/v1/runs/${started.runId}`)).json()) as typeof run;
    } while (run.status === 'in-progress' && (await new Promise((r) => setTimeout(r, 100))) === undefined);
    process.stdout.write(`$ curl ${server.url}/v1/runs/${started.runId}\n${JSON.stringify(run, null, 2)}\n`);
    if (run.status !== 'completed') process.exitCode = 1;
  } finally {
    await server.close();
  }
} finally {
  await Promise.all([source.stop(), destination.stop()]);
}
