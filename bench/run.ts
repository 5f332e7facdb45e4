/**
 * `npm run bench`: Ferry against skopeo and the raw lower bound (curl GET piped into one PUT),
 * in one run, on the same two local registries. Prints a markdown table (also written to
 * docs/benchmarks.md with --write). Ratios are what to compare; absolute numbers vary by machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { startRegistry } from '../test/support/registry-process.js';
import { pushImageOver, uploadRandomLayer } from './blobs.js';
import { estimateCost } from './cost.js';
import { measureLambdaShape } from './lambdas.js';
import { imageSetTable, measureImageSet } from './image-set.js';
import { measureRelease, releaseTable } from './release.js';
import { measureOrchestration } from './service.js';
import { measureSecondRun, secondRunTable } from './second-run.js';

const root = resolve(import.meta.dirname, '..', '..');
const ferry = join(root, 'bin', 'ferry.js');
const MiB = 1 << 20;
const reps = Number(process.env.BENCH_REPS ?? 5);
const bigLayer = Number(process.env.BENCH_LAYER_MIB ?? 256) * MiB;
const hugeLayer = Number(process.env.BENCH_HUGE_MIB ?? 1024) * MiB;
/** BENCH_ONLY=a runs scenario (a) alone (for tuning); the table in docs/ comes from a full run. */
const only = process.env.BENCH_ONLY;

interface Run {
  seconds: number;
  rssMiB: number;
  bytes: number;
}

const work = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const home = join(work, 'home');
// Ferry's blob location cache under this HOME too, cleared with skopeo's (see clearSkopeoCache).
const env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), AWS_EC2_METADATA_DISABLED: 'true' };
execFileSync('mkdir', ['-p', home]);

/** Runs a command under GNU time; returns wall seconds and peak RSS. */
function timed(command: string, args: string[]): Promise<{ seconds: number; rssMiB: number; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M', command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      const kib = Number(stderr.trim().split('\n').pop());
      resolvePromise({ seconds, rssMiB: kib / 1024, stdout });
    });
  });
}

/**
 * skopeo keeps a blob-info cache (/var/lib/containers/cache as root, else under $HOME) and mounts
 * blobs it has seen before: a first copy must start without it, or it measures a mount. So does
 * Ferry (its blob location cache, under $XDG_CACHE_HOME): both are cleared together. The cost of
 * a second run with the caches kept is its own table (bench/second-run.ts).
 */
function clearSkopeoCache(): void {
  for (const dir of [
    '/var/lib/containers/cache',
    join(home, '.local', 'share', 'containers', 'cache'),
    join(home, '.cache', 'ferry'),
  ])
    rmSync(dir, { recursive: true, force: true });
}

/** Opens an upload at the destination; the URL to PUT the blob to. */
async function startUpload(base: string, repository: string, digest: string): Promise<string> {
  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  return location.href;
}

/** The smallest Node pipe: argv = source URL, upload URL, size. Uses the undici Ferry ships with. */
const nodePipeScript = join(work, 'node-pipe.cjs');
writeFileSync(
  nodePipeScript,
  `const { request } = require(${JSON.stringify(join(root, 'node_modules', 'undici'))});
(async () => {
  const [from, to, size] = process.argv.slice(2);
  const get = await request(from);
  const put = await request(to, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': size }, body: get.body });
  await put.body.dump();
  if (put.statusCode !== 201) throw new Error('PUT ' + put.statusCode);
})().catch((err) => { console.error(err); process.exit(1); });
`,
);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let counter = 0;
let tenBytesKnown = 0;
let service = '';
let lambdas = '';
let imageSet = '';
let release = '';
let secondRun = '';
const fresh = (name: string): string => `${name}-${process.pid}-${counter++}`;

async function main(): Promise<void> {
  const src = await startRegistry();
  const dst = await startRegistry();
  const rows: string[][] = [];
  const notes: string[] = [];
  try {
    // (a) one image, one big random layer.
    const layer = await uploadRandomLayer(src.url, ['bench/big'], bigLayer, work);
    await pushImageOver(src.url, 'bench/big', 'v1', [layer]);

    // Warm-up, not measured: page cache, registry connections, Ferry's code cache.
    clearSkopeoCache();
    await timed('skopeo', [
      'copy',
      '--all',
      '-q',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${src.host}/bench/big:v1`,
      `docker://${dst.host}/${fresh('warm/skopeo')}:v1`,
    ]);
    await timed(process.execPath, [
      ferry,
      'copy',
      '--json',
      `${src.host}/bench/big:v1`,
      `${dst.host}/${fresh('warm/ferry')}:v1`,
    ]);

    const raw: Run[] = [];
    const nodePipe: Run[] = [];
    const skopeo: Run[] = [];
    const ferryRuns: Run[] = [];
    const lastDst: Record<string, string> = {};
    for (let i = 0; i < reps; i++) {
      // Raw lower bound: the blob bytes only, one GET piped into one PUT.
      const location = await startUpload(dst.url, fresh('raw/big'), layer.digest);
      const r = await timed('bash', [
        '-c',
        `curl -sSf ${src.url}/v2/bench/big/blobs/${layer.digest} | curl -sSf -X PUT -H 'Content-Type: application/octet-stream' -T - '${location}'`,
      ]);
      raw.push({ ...r, bytes: layer.size });

      // What Node itself does with the same pipe: undici GET streamed into one PUT, no verification.
      const nodeSession = await startUpload(dst.url, fresh('node/big'), layer.digest);
      nodePipe.push({
        ...(await timed(process.execPath, [
          nodePipeScript,
          `${src.url}/v2/bench/big/blobs/${layer.digest}`,
          nodeSession,
          String(layer.size),
        ])),
        bytes: layer.size,
      });

      const sk = fresh('skopeo/big');
      lastDst.skopeo = sk;
      clearSkopeoCache();
      skopeo.push({
        ...(await timed('skopeo', [
          'copy',
          '--all',
          '-q',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          `docker://${src.host}/bench/big:v1`,
          `docker://${dst.host}/${sk}:v1`,
        ])),
        bytes: layer.size,
      });

      const fe = fresh('ferry/big');
      lastDst.ferry = fe;
      const f = await timed(process.execPath, [
        ferry,
        'copy',
        '--json',
        `${src.host}/bench/big:v1`,
        `${dst.host}/${fe}:v1`,
      ]);
      ferryRuns.push({ ...f, bytes: (JSON.parse(f.stdout) as { bytes: number }).bytes });
    }
    const row = (scenario: string, tool: string, runs: Run[], baseline?: Run[], rawRuns?: Run[]): string[] => {
      const s = median(runs.map((r) => r.seconds));
      const bytes = runs[0]!.bytes;
      return [
        scenario,
        tool,
        s.toFixed(2),
        bytes > 0
          ? (bytes / MiB / s).toFixed(0)
          : Number.isNaN(bytes)
            ? `${(tenBytesKnown / MiB / s).toFixed(0)}*`
            : '–',
        baseline ? (s / median(baseline.map((r) => r.seconds))).toFixed(2) : '–',
        rawRuns ? `${((median(rawRuns.map((r) => r.seconds)) / s) * 100).toFixed(0)} %` : '–',
        Math.max(...runs.map((r) => r.rssMiB)).toFixed(0),
        Number.isNaN(bytes) ? 'not reported' : (bytes / MiB).toFixed(0),
      ];
    };
    const big = `(a) 1 image, ${bigLayer / MiB} MiB layer`;
    rows.push(row(big, 'raw curl GET | PUT', raw));
    rows.push(row(big, 'node undici GET → PUT (no verification)', nodePipe, skopeo, raw));
    rows.push(row(big, 'skopeo copy --all', skopeo, skopeo, raw));
    rows.push(row(big, 'ferry copy', ferryRuns, skopeo, raw));

    more: {
      if (only === 'a') break more;
      // (b) ten images sharing a base layer.
      const names = Array.from({ length: 10 }, (_, i) => `bench/app${i}`);
      const base = await uploadRandomLayer(src.url, names, 64 * MiB, work);
      const own: number[] = [];
      for (const name of names) {
        const ownLayer = await uploadRandomLayer(src.url, [name], 8 * MiB, work);
        own.push(ownLayer.size);
        await pushImageOver(src.url, name, '1.0', [base, ownLayer]);
      }
      const tenBytes = base.size + own.reduce((a, b) => a + b, 0);
      tenBytesKnown = tenBytes;
      const skTen: Run[] = [];
      const feTen: Run[] = [];
      let lastPrefix = { skopeo: '', ferry: '' };
      for (let i = 0; i < reps; i++) {
        const skPrefix = fresh('skopeo-ten');
        clearSkopeoCache();
        const startedSk = process.hrtime.bigint();
        let rss = 0;
        for (const name of names) {
          const r = await timed('skopeo', [
            'copy',
            '--all',
            '-q',
            '--src-tls-verify=false',
            '--dest-tls-verify=false',
            `docker://${src.host}/${name}:1.0`,
            `docker://${dst.host}/${skPrefix}/${name}:1.0`,
          ]);
          rss = Math.max(rss, r.rssMiB);
        }
        skTen.push({
          seconds: Number(process.hrtime.bigint() - startedSk) / 1e9,
          rssMiB: rss,
          bytes: names.length * base.size + own.reduce((a, b) => a + b, 0),
        });
        const fePrefix = fresh('ferry-ten');
        const f = await timed(process.execPath, [
          ferry,
          'mirror',
          '--json',
          '--to',
          `${dst.host}/${fePrefix}`,
          ...names.map((n) => `${src.host}/${n}:1.0`),
        ]);
        const moved = f.stdout
          .trim()
          .split('\n')
          .reduce((n, l) => n + (JSON.parse(l) as { bytes: number }).bytes, 0);
        feTen.push({ ...f, bytes: moved });
        lastPrefix = { skopeo: skPrefix, ferry: fePrefix };
      }
      const ten = '(b) 10 images sharing a 64 MiB base';
      rows.push(
        row(
          ten,
          'skopeo copy ×10',
          skTen.map((r) => ({ ...r, bytes: Number.NaN })),
          skTen,
        ),
      );
      rows.push(row(ten, 'ferry mirror (1 process)', feTen, skTen));
      notes.push(
        "(a) the node row is what a Node tool streaming through undici costs: the same GET piped into one PUT and nothing else — no verification, no protocol steps — with a fresh buffer per socket read, whose page faults were most of its CPU on this VM. Ferry streams blob bodies of 1 MiB and up on pooled, reused buffers (functions/oci/stream-exchange.ts) and beats that floor while hashing every byte; what is left between Ferry and curl is Node's own start and load (~0.2 s here) and its CPU per byte on 2 cores the registries already keep busy. The share moves between runs on this shared VM: 77, 81, 82, 84, 87 and 96 % in six runs of (a) on 2026-12-02, the table's run included (median 83 %; before pooled streams, 66 % on this VM).",
      );
      notes.push(
        `(b) distinct blob bytes: ${(tenBytes / MiB).toFixed(0)} MiB. Ferry reports the bytes it uploaded; skopeo does not (it may mount the base from its blob-info cache, cleared before each repetition), so its MiB/s* is distinct bytes over wall time.`,
      );

      // (c) re-copy when the destination is up to date.
      const skRe: Run[] = [];
      const feRe: Run[] = [];
      const skReTen: Run[] = [];
      const feReTen: Run[] = [];
      for (let i = 0; i < reps; i++) {
        skRe.push({
          ...(await timed('skopeo', [
            'copy',
            '--all',
            '-q',
            '--src-tls-verify=false',
            '--dest-tls-verify=false',
            `docker://${src.host}/bench/big:v1`,
            `docker://${dst.host}/${lastDst.skopeo}:v1`,
          ])),
          bytes: 0,
        });
        const f = await timed(process.execPath, [
          ferry,
          'copy',
          '--json',
          `${src.host}/bench/big:v1`,
          `${dst.host}/${lastDst.ferry}:v1`,
        ]);
        feRe.push({ ...f, bytes: (JSON.parse(f.stdout) as { bytes: number }).bytes });
        const startedSk = process.hrtime.bigint();
        let rss = 0;
        for (const name of names) {
          rss = Math.max(
            rss,
            (
              await timed('skopeo', [
                'copy',
                '--all',
                '-q',
                '--src-tls-verify=false',
                '--dest-tls-verify=false',
                `docker://${src.host}/${name}:1.0`,
                `docker://${dst.host}/${lastPrefix.skopeo}/${name}:1.0`,
              ])
            ).rssMiB,
          );
        }
        skReTen.push({ seconds: Number(process.hrtime.bigint() - startedSk) / 1e9, rssMiB: rss, bytes: 0 });
        const m = await timed(process.execPath, [
          ferry,
          'mirror',
          '--json',
          '--to',
          `${dst.host}/${lastPrefix.ferry}`,
          ...names.map((n) => `${src.host}/${n}:1.0`),
        ]);
        feReTen.push({
          ...m,
          bytes: m.stdout
            .trim()
            .split('\n')
            .reduce((n, l) => n + (JSON.parse(l) as { bytes: number }).bytes, 0),
        });
      }
      // (c) as a sync job runs it: everything of (a) and (b) re-checked at once — skopeo one image
      // at a time, Ferry as one `ferry mirror` over the 11 images (big image placed under the same prefix first).
      await timed('skopeo', [
        'copy',
        '--all',
        '-q',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${src.host}/bench/big:v1`,
        `docker://${dst.host}/${lastPrefix.skopeo}/bench/big:v1`,
      ]);
      await timed(process.execPath, [
        ferry,
        'copy',
        `${src.host}/bench/big:v1`,
        `${dst.host}/${lastPrefix.ferry}/bench/big:v1`,
      ]);
      const all = ['bench/big:v1', ...names.map((n) => `${n}:1.0`)];
      const skAll: Run[] = [];
      const feAll: Run[] = [];
      for (let i = 0; i < reps; i++) {
        const started = process.hrtime.bigint();
        let rss = 0;
        for (const image of all) {
          rss = Math.max(
            rss,
            (
              await timed('skopeo', [
                'copy',
                '--all',
                '-q',
                '--src-tls-verify=false',
                '--dest-tls-verify=false',
                `docker://${src.host}/${image}`,
                `docker://${dst.host}/${lastPrefix.skopeo}/${image}`,
              ])
            ).rssMiB,
          );
        }
        skAll.push({ seconds: Number(process.hrtime.bigint() - started) / 1e9, rssMiB: rss, bytes: 0 });
        const m = await timed(process.execPath, [
          ferry,
          'mirror',
          '--json',
          '--to',
          `${dst.host}/${lastPrefix.ferry}`,
          ...all.map((image) => `${src.host}/${image}`),
        ]);
        feAll.push({
          ...m,
          bytes: m.stdout
            .trim()
            .split('\n')
            .reduce((n, l) => n + (JSON.parse(l) as { bytes: number }).bytes, 0),
        });
      }
      rows.push(row('(c) re-copy (a), up to date', 'skopeo copy --all', skRe, skRe));
      rows.push(row('(c) re-copy (a), up to date', 'ferry copy', feRe, skRe));
      rows.push(row('(c) re-copy (b), up to date', 'skopeo copy ×10', skReTen, skReTen));
      rows.push(row('(c) re-copy (b), up to date', 'ferry mirror', feReTen, skReTen));
      rows.push(row('(c) re-copy (a)+(b), 11 images, up to date', 'skopeo copy ×11', skAll, skAll));
      rows.push(row('(c) re-copy (a)+(b), 11 images, up to date', 'ferry mirror (1 process)', feAll, skAll));
      notes.push(
        "(c) a lone up-to-date image is bounded by process start: Node needs 0.1–0.2 s to start and load Ferry (with a V8 code cache) on these VMs, more than skopeo's whole no-op copy; one `ferry mirror` per sync is how Ferry is meant to be run.",
      );

      // Peak memory while copying a very large layer.
      if (hugeLayer > 0) {
        const huge = await uploadRandomLayer(src.url, ['bench/huge'], hugeLayer, work);
        await pushImageOver(src.url, 'bench/huge', 'v1', [huge]);
        const label = `(d) 1 image, ${(hugeLayer / MiB / 1024).toFixed(0)} GiB layer`;
        clearSkopeoCache();
        const sk = await timed('skopeo', [
          'copy',
          '--all',
          '-q',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          `docker://${src.host}/bench/huge:v1`,
          `docker://${dst.host}/${fresh('skopeo/huge')}:v1`,
        ]);
        const fe = await timed(process.execPath, [
          ferry,
          'copy',
          '--json',
          `${src.host}/bench/huge:v1`,
          `${dst.host}/${fresh('ferry/huge')}:v1`,
        ]);
        const skRun = [{ ...sk, bytes: huge.size }];
        rows.push(row(label, 'skopeo copy --all', skRun, skRun));
        rows.push(row(label, 'ferry copy', [{ ...fe, bytes: huge.size }], skRun));
      }

      // (e) air gap: mirror (a) to an OCI layout directory on disk and from it to a registry.
      const toDisk: Record<'skopeo' | 'ferry', Run[]> = { skopeo: [], ferry: [] };
      const fromDisk: Record<'skopeo' | 'ferry', Run[]> = { skopeo: [], ferry: [] };
      const copyWith = (tool: 'skopeo' | 'ferry', from: string, to: string): Promise<Run> => {
        clearSkopeoCache();
        const run =
          tool === 'skopeo'
            ? timed('skopeo', [
                'copy',
                '--all',
                '-q',
                '--src-tls-verify=false',
                '--dest-tls-verify=false',
                from.startsWith('oci:') ? from : `docker://${from}`,
                to.startsWith('oci:') ? to : `docker://${to}`,
              ])
            : timed(process.execPath, [ferry, 'copy', from, to]);
        return run.then((r) => ({ ...r, bytes: layer.size }));
      };
      for (let i = 0; i < reps; i++) {
        for (const tool of ['skopeo', 'ferry'] as const) {
          const dir = join(work, fresh(`layout-${tool}`));
          toDisk[tool].push(await copyWith(tool, `${src.host}/bench/big:v1`, `oci:${dir}:v1`));
          fromDisk[tool].push(await copyWith(tool, `oci:${dir}:v1`, `${dst.host}/${fresh(`${tool}/disk`)}:v1`));
          rmSync(dir, { recursive: true, force: true });
        }
      }
      rows.push(row(`(e) (a) registry → oci: directory`, 'skopeo copy --all', toDisk.skopeo, toDisk.skopeo));
      rows.push(row(`(e) (a) registry → oci: directory`, 'ferry copy', toDisk.ferry, toDisk.skopeo));
      rows.push(row(`(e) (a) oci: directory → registry`, 'skopeo copy --all', fromDisk.skopeo, fromDisk.skopeo));
      rows.push(row(`(e) (a) oci: directory → registry`, 'ferry copy', fromDisk.ferry, fromDisk.skopeo));

      // (f) orchestration overhead of the service, locally.
      const o = await measureOrchestration(src, dst, ferry);
      service = [
        '| 200 tiny images (2 KiB layer each) | wall s |',
        '| --- | --- |',
        `| \`ferry mirror\` (one process, concurrency 10) | ${o.mirrorSeconds.toFixed(2)} |`,
        `| \`ferry serve\` run (API → dynalite → synthesized state machine, Map concurrency 10) | ${o.serviceSeconds.toFixed(2)} |`,
        `| orchestration overhead per image | ${(((o.serviceSeconds - o.mirrorSeconds) / o.images) * 1000).toFixed(1)} ms |`,
        `| median copy-image task (start → end, per image) | ${o.copyTaskMs} ms |`,
      ].join('\n');

      // (h) image sets: a 200-tag policy planned and synced against an up-to-date destination.
      imageSet = imageSetTable(await measureImageSet(src, dst, ferry), 200);

      // (i) an OpenShift release payload of 190 components vs skopeo copying the resolved list one at a time.
      release = releaseTable(await measureRelease(src, dst, ferry));

      // (j) memory across runs: the second run of a set sharing a base layer with the first.
      secondRun = secondRunTable(await measureSecondRun(src, dst, ferry, { reps: Math.min(reps, 3) }));

      // (g) the deployed shape: one engine per image, all at once, with or without the shared blob index.
      const tenImages = names.map((n) => `${n}:1.0`);
      const alone = await measureLambdaShape(src, dst, tenImages, false, reps, fresh);
      const sharedIndex = await measureLambdaShape(src, dst, tenImages, true, reps, fresh);
      const aloneSeconds = median(alone.seconds);
      lambdas = [
        "| (b)'s 10 images, one copy-image engine each, all at once | wall s (median) | × per-process only | MiB moved |",
        '| --- | --- | --- | --- |',
        `| per-process memory only (each Lambda streams the base) | ${aloneSeconds.toFixed(2)} | 1.00 | ${(median(alone.bytes) / MiB).toFixed(0)} |`,
        `| shared blob index + leases in the run table | ${median(sharedIndex.seconds).toFixed(2)} | ${(median(sharedIndex.seconds) / aloneSeconds).toFixed(2)} | ${(median(sharedIndex.bytes) / MiB).toFixed(0)} |`,
      ].join('\n');
    }
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
    rmSync(work, { recursive: true, force: true });
  }

  const header = [
    'scenario',
    'tool',
    'wall s (median)',
    'MiB/s',
    '× skopeo',
    '% of raw pipe',
    'peak RSS MiB',
    'MiB moved',
  ];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const text = `${table}\n\n${reps} repetitions per scenario after a warm-up copy (median), ${machine}. Two docker-registry 2.8 processes on loopback, filesystem storage.\n${notes.join('\n')}\n`;
  const cost = estimateCost(2);
  const serviceText =
    (service === '' ? '' : `\n## The service, locally: orchestration overhead\n\n${service}\n`) +
    (lambdas === ''
      ? ''
      : `\n## The deployed shape: one engine per image\n\nEvery image copied by its own copy-image engine (as each Lambda has its own memory and connections), the ten\nstarted together as the Map does, in one process on dynalite. Without the shared index each engine streams\nthe 64 MiB base; with it one claims the base and the others mount it.\n\n${lambdas}\n`);
  const imageSetText =
    imageSet === ''
      ? ''
      : `\n## Image sets: a tag policy against an up-to-date destination\n\nSource requests counted by a proxy in front of the source registry. skopeo's dry run lists tags and stops (it never\nlooks at the destination); its real sync GETs every manifest — what Docker Hub counts as pulls. Ferry decides each\nup-to-date tag with one HEAD at the source and one at the destination.\n\n${imageSet}\n`;
  const releaseText =
    release === ''
      ? ''
      : `\n## OpenShift: a release payload of 190 components and an operator catalog\n\nOne release image naming 190 small component images by digest (\`mirror.platform.release\`) and one catalog of three\npackages (\`mirror.operators\`: a channel range and a head; 11 bundle and related images, the catalog rebuilt), into a\nfresh namespace each repetition; skopeo copies the same resolved list one image at a time (the catalog as it is,\n\`--all\`). Source requests counted by a proxy. Issue 10's target: ≤ 0.5× skopeo.\n\n${release}\n`;
  const secondRunText =
    secondRun === ''
      ? ''
      : `\n## Memory across runs: a second run sharing layers with the first\n\nRun 1 mirrors five images over a 64 MiB base (8 MiB of their own each) into a fresh namespace; run 2 mirrors five\nother images over the same base into the same namespace. Only run 2 is timed; bytes are blob GETs counted at a proxy\nin front of the source. Ferry as one \`ferry mirror\` per run, with its blob location cache (kept from run 1) or\n\`--no-cache\`; \`ferry serve\` restarted between the runs on one data directory (run 2 timed from its POST to its end,\nthe blob index in the server's table as the Lambdas' is); skopeo as one \`skopeo copy --all\` per image with its blob-info cache kept from run 1, or cleared\nbefore run 2.\n\n${secondRun}\n`;
  const costText = `\n## Cost per 1,000 images (deployed stack, estimate)\n\nFrom the synthesized stack's own settings, assuming 2 s billed per copy-image invocation (a\ntypical few-hundred-MB image in-region); copy time scales the Lambda line linearly.\n\n${cost}\n`;
  process.stdout.write(`${text}${serviceText}${imageSetText}${releaseText}${secondRunText}${costText}`);
  if (process.argv.includes('--write')) {
    const doc = `# Benchmarks\n\nProduced by \`npm run bench -- --write\` in one run: Ferry, skopeo 1.9 and the raw lower bound\n(curl GET piped into one PUT) against the same two local registries. Compare ratios, not absolute\nnumbers: on 2 cores both registries hash and write, and they are the bottleneck.\n\n${text}${serviceText}${imageSetText}${releaseText}${secondRunText}${costText}`;
    writeFileSync(join(root, 'docs', 'benchmarks.md'), doc);
  }
}

await main();
