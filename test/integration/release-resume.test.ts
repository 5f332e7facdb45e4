import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, repoRoot, runFerry, skopeoDigest } from '../support/cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { Rng } from '../support/fixtures.js';
import { waitFor } from '../support/ports.js';
import { type PushedRelease, pushReleases } from '../support/release-fixture.js';

// `npm run build` first. issue 10 "Done when": an interrupted run resumed by re-running finishes.
// The source is reached through a proxy that holds one component's manifest GET; once Ferry asks
// for it (one image at a time, so every image before it is mirrored), the process is killed.
// Re-running the same command finds those images up to date and copies the rest.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1077);
const ns = `rr${rng.int(1e9)}`;
let release: PushedRelease;
let proxy: FaultProxy;
let releaseHeld: () => void = () => undefined;
let held = '';

beforeAll(async () => {
  proxy = await startFaultProxy(src.url, (req) =>
    held !== '' && req.method === 'GET' && req.url.endsWith(`/manifests/${held}`)
      ? { kind: 'hold', until: new Promise<void>((resolve) => (releaseHeld = resolve)) }
      : undefined,
  );
  const pushed = await pushReleases({
    baseUrl: src.url,
    host: proxy.host,
    ns,
    rng,
    versions: ['4.19.0'],
    archs: [{ arch: 'amd64', oci: 'amd64', tagArch: 'x86_64' }],
    count: 12,
    changed: 0,
  });
  release = pushed[0]!;
}, 120_000);
afterAll(async () => {
  releaseHeld();
  await proxy?.stop();
});

describe('an interrupted release mirror, run again', () => {
  it('finishes: what the first run copied is up to date, the rest is copied, every digest equal', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ferry-resume-'));
    const config = join(work, 'set.yaml');
    writeFileSync(
      config,
      `apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  platform:\n    release: ${proxy.host}/${ns}/ocp-release:4.19.0-x86_64\n`,
    );
    const to = `${dst.host}/${ns}`;
    const args = ['mirror', '--config', config, '--to', to, '--workspace', work, '--concurrency', '1', '--json'];
    held = release.components[6]!.digest;

    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ferry.js'), ...args], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let firstOut = '';
    child.stdout.on('data', (d: Buffer) => (firstOut += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor(
      async () => proxy.seen.some((r) => r.method === 'GET' && r.url.endsWith(`/manifests/${held}`)),
      'the held manifest GET',
      2000,
    );
    child.kill('SIGKILL');
    await exited;
    held = '';
    releaseHeld();
    const copiedFirst = firstOut.split('\n').filter((l) => l.includes('"status":"copied"')).length;
    // The release image and components 00–05 were copied before component 06 was asked for.
    expect(copiedFirst).toBe(7);

    const second = await runFerry(args);
    expect(second.code, second.stderr).toBe(0);
    const statuses = second.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { status: string }).status);
    expect(statuses).toEqual([...Array<string>(7).fill('skipped'), ...Array<string>(6).fill('copied')]);
    expect(await skopeoDigest(`${to}/openshift/release-images:4.19.0-x86_64`)).toBe(release.digest);
    for (const c of release.components)
      expect(await skopeoDigest(`${to}/openshift/release:4.19.0-x86_64-${c.name}`)).toBe(c.digest);
  });
});
