/**
 * Issue 9's performance point: a 200-tag policy evaluated and planned against an up-to-date
 * destination, Ferry (`ferry mirror --config … --dry-run`) next to `skopeo sync --dry-run` with an
 * equivalent YAML. Both reach the source through a counting proxy, so the table shows the source
 * requests each made — above all manifest GETs, which Docker Hub counts as pulls. Ferry must decide
 * an up-to-date tag without a manifest GET.
 * `node dist/bench/image-set.js` runs it alone; `npm run bench` includes it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FaultProxy, type SeenRequest, startFaultProxy } from '../test/support/fault-proxy.js';
import { buildImage, push, Rng } from '../test/support/fixtures.js';
import { type RunningRegistry, startRegistry } from '../test/support/registry-process.js';

export interface ImageSetBenchRow {
  readonly tool: string;
  readonly seconds: number;
  readonly requests: { tagLists: number; manifestHeads: number; manifestGets: number; blobGets: number; other: number };
}

/** Requests by kind, as a proxy in front of the source saw them. */
export function count(seen: readonly SeenRequest[]): ImageSetBenchRow['requests'] {
  const requests = { tagLists: 0, manifestHeads: 0, manifestGets: 0, blobGets: 0, other: 0 };
  for (const r of seen) {
    const path = r.url.split('?')[0]!;
    if (path.endsWith('/tags/list')) requests.tagLists++;
    else if (path.includes('/manifests/') && r.method === 'HEAD') requests.manifestHeads++;
    else if (path.includes('/manifests/') && r.method === 'GET') requests.manifestGets++;
    else if (path.includes('/blobs/') && r.method === 'GET') requests.blobGets++;
    else requests.other++;
  }
  return requests;
}

/** Runs a command to completion; its wall time in seconds (rejects, with its stderr's tail, on a non-zero exit). */
export async function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return (await runPeak(command, args, env)).seconds;
}

/** {@link run} under GNU time: wall seconds and the command's peak RSS (MiB). */
export function runPeak(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; rssMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let stderr = '';
    const child = spawn('/usr/bin/time', ['-f', '%M', command, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-1500)}`));
      const kib = Number(stderr.trim().split('\n').pop());
      resolve({ seconds, rssMiB: Number.isFinite(kib) ? kib / 1024 : Number.NaN });
    });
  });
}

/** A scratch directory for one bench, and the environment its commands run in (a HOME of their own: no auth files). */
export function benchWork(name: string): { work: string; env: NodeJS.ProcessEnv } {
  const work = mkdtempSync(join(tmpdir(), `ferry-bench-${name}-`));
  return { work, env: { ...process.env, HOME: join(work, 'home'), AWS_EC2_METADATA_DISABLED: 'true' } };
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Pushes `tags` semver tags (distinct tiny images), mirrors them once, then times both dry runs `reps` times. */
export async function measureImageSet(
  src: RunningRegistry,
  dst: RunningRegistry,
  ferry: string,
  tags = 200,
  reps = 3,
): Promise<ImageSetBenchRow[]> {
  const { work, env } = benchWork('set');
  const rng = new Rng(9);
  const proxy: FaultProxy = await startFaultProxy(src.url);
  try {
    for (let i = 0; i < tags; i++) {
      await push(src.url, 'sets/app', `1.${Math.floor(i / 20)}.${i % 20}`, buildImage({ layers: [rng.bytes(256)] }));
    }
    const config = join(work, 'set.yaml');
    writeFileSync(
      config,
      [
        'apiVersion: mirror.openshift.io/v2alpha1',
        'kind: ImageSetConfiguration',
        'mirror:',
        '  repositories:',
        `    - name: ${proxy.host}/sets/app`,
        '      tags:',
        "        semver: '>=1.0.0'",
        '',
      ].join('\n'),
    );
    // skopeo sync's equivalent: the same repository, every tag that looks like 1.x.y.
    const skopeoYaml = join(work, 'skopeo.yaml');
    writeFileSync(
      skopeoYaml,
      [
        `${proxy.host}:`,
        '  tls-verify: false',
        '  images-by-tag-regex:',
        "    sets/app: '^1\\.[0-9]+\\.[0-9]+$'",
        '',
      ].join('\n'),
    );
    const to = `${dst.host}/bench-set`;
    const ferryMirror = [ferry, 'mirror', '--config', config, '--to', to, '--workspace', join(work, 'ws')];
    const skopeoSync = (...flags: string[]): string[] => [
      'sync',
      ...flags,
      '--src',
      'yaml',
      '--dest',
      'docker',
      '--dest-tls-verify=false',
      skopeoYaml,
      `${to}/sets`,
    ];
    // Bring the destination up to date (not measured).
    await run(process.execPath, ferryMirror, env);

    const rows: ImageSetBenchRow[] = [];
    const measure = async (tool: string, command: string, args: string[]): Promise<void> => {
      const seconds: number[] = [];
      let requests = count([]);
      for (let i = 0; i < reps; i++) {
        const before = proxy.seen.length;
        seconds.push(await run(command, args, env));
        requests = count(proxy.seen.slice(before));
      }
      rows.push({ tool, seconds: median(seconds), requests });
    };
    await measure('ferry mirror --config --dry-run (up to date)', process.execPath, [
      ...ferryMirror,
      '--dry-run',
      '--json',
    ]);
    await measure('ferry mirror --config (up to date)', process.execPath, ferryMirror);
    await measure('skopeo sync --dry-run --src yaml', 'skopeo', skopeoSync('--dry-run'));
    // skopeo's dry run lists tags and stops: it never looks at the destination, so it cannot say
    // what is up to date. Its real sync against the same up-to-date destination is what keeping
    // the set in sync costs it.
    await measure('skopeo sync --src yaml (destination up to date)', 'skopeo', skopeoSync());
    return rows;
  } finally {
    await proxy.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The markdown table of `measureImageSet`'s rows. */
export function imageSetTable(rows: readonly ImageSetBenchRow[], tags: number): string {
  return [
    `| ${tags}-tag policy, destination up to date | wall s (median) | tags/list | manifest HEAD | manifest GET | blob GET | other |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.tool} | ${r.seconds.toFixed(2)} | ${r.requests.tagLists} | ${r.requests.manifestHeads} | ${r.requests.manifestGets} | ${r.requests.blobGets} | ${r.requests.other} |`,
    ),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ferry = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ferry.js');
  const src = await startRegistry();
  const dst = await startRegistry();
  try {
    process.stdout.write(`${imageSetTable(await measureImageSet(src, dst, ferry), 200)}\n`);
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}
