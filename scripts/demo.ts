/**
 * `npm run demo`: Ferry's main job on embedded defaults — no AWS account, no Docker. Starts two
 * local registries (Debian's docker-registry), publishes a two-platform image and a signature
 * to the first, then runs `ferry copy --referrers` into the second and checks the digest.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { buildImage, buildIndex, push, remoteDigest, Rng } from '../test/support/fixtures.js';
import { startRegistry } from '../test/support/registry-process.js';

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
  process.stdout.write(`source digest      ${index.digest}\ndestination digest ${copied ?? '(missing)'}\n`);
  if (code !== 0 || copied !== index.digest) process.exitCode = 1;
} finally {
  await Promise.all([source.stop(), destination.stop()]);
}
