/**
 * Issue 11's "memory across runs" row: the second run of a set that shares layers with the first.
 * Run 1 mirrors five images over one base layer into a fresh namespace; run 2 mirrors five other
 * images over the same base into the same namespace (other repositories of the same registry).
 * Only run 2 is timed; the bytes it moved are counted as blob GETs at a proxy in front of the source.
 * Ferry: one `ferry mirror` per run, with its blob location cache (kept from run 1) or `--no-cache`;
 * and two runs of `ferry serve` (restarted in between on one data directory), whose blob index
 * is the deployed service's, in its DynamoDB table.
 * skopeo: one `skopeo copy` per image, with its blob-info cache kept from run 1, or cleared before run 2.
 * `node dist/bench/second-run.js` runs it alone; `npm run bench` includes it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServer, serve } from '../functions/local/serve.js';
import { type SeenRequest, startFaultProxy } from '../test/support/fault-proxy.js';
import { type RunningRegistry, startRegistry } from '../test/support/registry-process.js';
import { pushImageOver, uploadRandomLayer } from './blobs.js';
import { benchWork, median, runPeak } from './image-set.js';

const MiB = 1 << 20;

export interface SecondRunRow {
  readonly tool: string;
  /** Wall seconds of the second run (median). */
  readonly seconds: number;
  /** Blob bytes the second run read from the source (median). */
  readonly bytes: number;
}

type Tool =
  | 'ferry'
  | 'ferry --no-cache'
  | 'ferry serve (blob index in its table)'
  | 'skopeo, cache kept'
  | 'skopeo, cache cleared before run 2';
const tools: readonly Tool[] = [
  'ferry',
  'ferry --no-cache',
  'ferry serve (blob index in its table)',
  'skopeo, cache kept',
  'skopeo, cache cleared before run 2',
];

/** One run through a `ferry serve` API (in this process): wall seconds to its end. */
async function serveRun(url: string, images: readonly string[], registry: string, prefix: string): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await fetch(`${url}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ images, destination: { registry, prefix } }),
  });
  const { runId } = (await res.json()) as { runId: string };
  for (;;) {
    const run = (await (await fetch(`${url}/v1/runs/${runId}`)).json()) as { status: string };
    if (run.status === 'completed') return Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 'in-progress') throw new Error(`ferry serve run ended ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * skopeo's blob-info cache: /var/lib/containers/cache as root, else under $HOME. Ferry's blob
 * location cache: under $XDG_CACHE_HOME (set to `home`/.cache here).
 */
function clearCaches(home: string): void {
  for (const dir of [
    '/var/lib/containers/cache',
    join(home, '.local', 'share', 'containers', 'cache'),
    join(home, '.cache', 'ferry'),
  ])
    rmSync(dir, { recursive: true, force: true });
}

/** Builds ten images over one base layer (`baseMiB`) plus an own layer each (`ownMiB`), then times run 2 per tool. */
export async function measureSecondRun(
  src: RunningRegistry,
  dst: RunningRegistry,
  ferry: string,
  options: { reps?: number; baseMiB?: number; ownMiB?: number } = {},
): Promise<{ rows: SecondRunRow[]; firstBytes: number; secondBytes: number }> {
  const { work, env: baseEnv } = benchWork('second-run');
  const home = baseEnv.HOME!;
  const env = { ...baseEnv, XDG_CACHE_HOME: join(home, '.cache') };
  const reps = options.reps ?? 3;
  const proxy = await startFaultProxy(src.url);
  let server: RunningServer | undefined;
  try {
    const names = Array.from({ length: 10 }, (_, i) => `bench-second/app${i}`);
    const base = await uploadRandomLayer(src.url, names, (options.baseMiB ?? 64) * MiB, work);
    const sizes = new Map<string, number>([[base.digest, base.size]]);
    for (const name of names) {
      const own = await uploadRandomLayer(src.url, [name], (options.ownMiB ?? 8) * MiB, work);
      sizes.set(own.digest, own.size);
      await pushImageOver(src.url, name, '1.0', [base, own]);
    }
    const sets = [names.slice(0, 5), names.slice(5)];
    const setBytes = (set: readonly string[]) => base.size + set.length * (options.ownMiB ?? 8) * MiB;
    const blobBytes = (seen: readonly SeenRequest[]) =>
      seen
        .filter((r) => r.method === 'GET' && r.url.includes('/blobs/sha256:'))
        .reduce((sum, r) => sum + (sizes.get(r.url.split('/blobs/')[1]!.split('?')[0]!) ?? 0), 0);

    const runSet = async (tool: Tool, namespace: string, set: readonly string[]): Promise<number> => {
      if (tool.startsWith('ferry serve')) {
        // Run 1 on one server, run 2 on the next over the same data directory: a restart between them.
        await server?.close();
        server = await serve({ port: 0, dataDir: join(work, `serve-${namespace}`) });
        return serveRun(
          server.url,
          set.map((n) => `${proxy.host}/${n}:1.0`),
          dst.host,
          namespace,
        );
      }
      if (tool.startsWith('ferry')) {
        const args = [ferry, 'mirror', '--json', ...(tool === 'ferry' ? [] : ['--no-cache'])];
        const to = `${dst.host}/${namespace}`;
        return (
          await runPeak(process.execPath, [...args, '--to', to, ...set.map((n) => `${proxy.host}/${n}:1.0`)], env)
        ).seconds;
      }
      let seconds = 0;
      for (const name of set) {
        const from = `docker://${proxy.host}/${name}:1.0`;
        const to = `docker://${dst.host}/${namespace}/${name}:1.0`;
        const flags = ['copy', '--all', '-q', '--src-tls-verify=false', '--dest-tls-verify=false'];
        seconds += (await runPeak('skopeo', [...flags, from, to], env)).seconds;
      }
      return seconds;
    };

    const rows: SecondRunRow[] = [];
    for (const tool of tools) {
      const seconds: number[] = [];
      const bytes: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        const namespace = `second-${tool.split(/[ ,]/)[0]}-${process.pid}-${rows.length}-${rep}`;
        clearCaches(home);
        await runSet(tool, namespace, sets[0]!);
        if (tool === 'skopeo, cache cleared before run 2') clearCaches(home);
        const from = proxy.seen.length;
        seconds.push(await runSet(tool, namespace, sets[1]!));
        bytes.push(blobBytes(proxy.seen.slice(from)));
        await server?.close();
        server = undefined;
      }
      rows.push({ tool, seconds: median(seconds), bytes: median(bytes) });
    }
    return { rows, firstBytes: setBytes(sets[0]!), secondBytes: setBytes(sets[1]!) };
  } finally {
    await server?.close();
    await proxy.stop();
    clearCaches(home);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The markdown table of {@link measureSecondRun}, times as multiples of skopeo with its cache kept. */
export function secondRunTable(result: Awaited<ReturnType<typeof measureSecondRun>>): string {
  const skopeo = result.rows.find((r) => r.tool === 'skopeo, cache kept')?.seconds ?? Number.NaN;
  return [
    `| second run: 5 images over run 1's base, same namespace (${(result.secondBytes / MiB).toFixed(0)} MiB of blobs) | wall s (median) | × skopeo (cache kept) | MiB read from the source |`,
    '| --- | --- | --- | --- |',
    ...result.rows.map(
      (r) =>
        `| ${r.tool} | ${r.seconds.toFixed(2)} | ${(r.seconds / skopeo).toFixed(2)} | ${(r.bytes / MiB).toFixed(0)} |`,
    ),
  ].join('\n');
}

// Alone: `node dist/bench/second-run.js` (after `npm run build`), on two registries of its own.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ferryBin = join(import.meta.dirname, '..', '..', 'bin', 'ferry.js');
  const [src, dst] = [await startRegistry(), await startRegistry()];
  try {
    const reps = Number(process.env.BENCH_REPS ?? 3);
    process.stdout.write(`${secondRunTable(await measureSecondRun(src, dst, ferryBin, { reps }))}\n`);
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}
