/**
 * Issue 10's performance point: one OpenShift release payload naming `count` small component
 * images plus one operator catalog of three packages, mirrored by `ferry mirror --config`
 * (mirror.platform.release + mirror.operators: the catalog rebuilt with the selection) next to
 * skopeo copying the same resolved list one image at a time (what a script around `skopeo copy`
 * does with `oc adm release info --pullspecs` and a bundle list; the catalog copied as it is, with
 * `--all`, since skopeo cannot rebuild it). Both read the source through a counting proxy, into a
 * fresh destination namespace each repetition. `node dist/bench/release.js` runs it alone;
 * `npm run bench` includes it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { Rng } from '../test/support/fixtures.js';
import { type RunningRegistry, startRegistry } from '../test/support/registry-process.js';
import { pushReleases } from '../test/support/release-fixture.js';
import { catalogFixtureRepository, pushCatalogFixture } from '../test/support/catalog-fixture.js';
import { benchWork, count, median, runPeak } from './image-set.js';

export interface ReleaseBenchRow {
  readonly tool: string;
  readonly seconds: number;
  /** The largest peak RSS of one process of the row (MiB): for skopeo, of one `skopeo copy`. */
  readonly rssMiB: number;
  readonly manifestGets: number;
  readonly blobGets: number;
  readonly requests: number;
}

export async function measureRelease(
  src: RunningRegistry,
  dst: RunningRegistry,
  ferry: string,
  components = 190,
  reps = 3,
): Promise<ReleaseBenchRow[]> {
  const { work, env } = benchWork('release');
  const proxy = await startFaultProxy(src.url);
  try {
    const version = '4.17.3';
    const [release] = await pushReleases({
      baseUrl: src.url,
      host: proxy.host,
      ns: 'bench-release',
      rng: new Rng(10),
      versions: [version],
      archs: [{ arch: 'amd64', oci: 'amd64', tagArch: 'x86_64' }],
      count: components,
      changed: 0,
    });
    const catalog = await pushCatalogFixture({
      baseUrl: src.url,
      host: proxy.host,
      ns: 'bench-catalog',
      rng: new Rng(11),
    });
    const config = join(work, 'set.yaml');
    writeFileSync(
      config,
      [
        'apiVersion: mirror.openshift.io/v2alpha1',
        'kind: ImageSetConfiguration',
        'mirror:',
        '  platform:',
        `    release: ${proxy.host}/bench-release/ocp-release:${version}-x86_64`,
        '  operators:',
        `    - catalog: ${proxy.host}/bench-catalog/catalog/operator-index:v1`,
        '      packages:',
        '        - name: alpha-operator',
        '          channels:',
        '            - name: stable',
        '              minVersion: 1.1.0',
        '        - name: gamma-operator',
        '',
      ].join('\n'),
    );
    const rows: ReleaseBenchRow[] = [];
    const measure = async (
      tool: string,
      once: (rep: number) => Promise<{ seconds: number; rssMiB: number }>,
    ): Promise<void> => {
      const seconds: number[] = [];
      let rssMiB = 0;
      let seen = proxy.seen.slice(0, 0);
      for (let rep = 0; rep < reps; rep++) {
        const before = proxy.seen.length;
        const measured = await once(rep);
        seconds.push(measured.seconds);
        rssMiB = Math.max(rssMiB, measured.rssMiB);
        seen = proxy.seen.slice(before);
      }
      const c = count(seen);
      rows.push({
        tool,
        seconds: median(seconds),
        rssMiB,
        manifestGets: c.manifestGets,
        blobGets: c.blobGets,
        requests: seen.length,
      });
    };
    const ferryTo = (rep: number): string => `${dst.host}/ferry-release-${process.pid}-${rep}`;
    const ferryMirror = (rep: number): string[] => [
      ferry,
      'mirror',
      '--config',
      config,
      '--to',
      ferryTo(rep),
      '--workspace',
      join(work, `ws-${rep}`),
    ];
    await measure(`ferry mirror --config (release + ${components} components, catalog of 3 packages)`, (rep) =>
      runPeak(process.execPath, ferryMirror(rep), env),
    );
    await measure('ferry mirror --config again (up to date)', (rep) =>
      runPeak(process.execPath, ferryMirror(rep), env),
    );
    // skopeo: the same list, resolved, one `skopeo copy` per image, as a script would run it.
    // The catalog's selection as the catalog test expects it: alpha 1.1.0…1.3.0 by its channel range, gamma's head.
    const selected = ['alpha.v1.1.0', 'alpha.v1.1.1', 'alpha.v1.2.0', 'alpha.v1.3.0', 'gamma.v3.0.0'];
    const catalogImages = [...selected.flatMap((b) => [`${b}-bundle`, `${b}-operator`]), 'kube-rbac-proxy'].map(
      (name) => {
        const repository = `bench-catalog/${catalogFixtureRepository(name)}`;
        const digest = catalog.images.get(name)!.digest;
        return { from: `${proxy.host}/${repository}@${digest}`, to: `${repository}@${digest}` };
      },
    );
    const pairs = [
      { from: release!.payload, to: `openshift/release-images:${version}-x86_64` },
      ...release!.components.map((c) => ({ from: c.image, to: `openshift/release:${version}-x86_64-${c.name}` })),
      ...catalogImages,
      { from: `${proxy.host}/bench-catalog/catalog/operator-index:v1`, to: 'catalog/operator-index:v1', all: true },
    ];
    await measure(`skopeo copy × ${pairs.length}, one at a time`, async (rep) => {
      let total = 0;
      let rssMiB = 0;
      for (const { from, to, all } of pairs as { from: string; to: string; all?: boolean }[]) {
        const one = await runPeak(
          'skopeo',
          [
            'copy',
            ...(all ? ['--all'] : []),
            '--src-tls-verify=false',
            '--dest-tls-verify=false',
            `docker://${from}`,
            `docker://${dst.host}/skopeo-release-${process.pid}-${rep}/${to}`,
          ],
          env,
        );
        total += one.seconds;
        rssMiB = Math.max(rssMiB, one.rssMiB);
      }
      return { seconds: total, rssMiB };
    });
    return rows;
  } finally {
    await proxy.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The markdown table of `measureRelease`'s rows, with each row's time as a multiple of skopeo's. */
export function releaseTable(rows: readonly ReleaseBenchRow[]): string {
  const skopeo = rows.find((r) => r.tool.startsWith('skopeo'))?.seconds ?? Number.NaN;
  return [
    '| release payload + catalog, fresh destination | wall s (median) | × skopeo | peak RSS MiB | manifest GET | blob GET | source requests |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.tool} | ${r.seconds.toFixed(2)} | ${(r.seconds / skopeo).toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${r.manifestGets} | ${r.blobGets} | ${r.requests} |`,
    ),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ferry = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ferry.js');
  const src = await startRegistry();
  const dst = await startRegistry();
  try {
    process.stdout.write(`${releaseTable(await measureRelease(src, dst, ferry))}\n`);
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
}
