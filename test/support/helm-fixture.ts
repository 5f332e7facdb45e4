import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

// Helm chart fixtures (issue 10): chart archives laid out as `helm package` writes them (every
// entry under `<chart>/`) and repository indexes. Built in memory; nothing reaches a public name.

/** A chart to package: its directory name and files by path inside the chart. */
export interface ChartFixture {
  readonly dir: string;
  /** Paths inside the chart directory → contents (a packaged subchart's `.tgz` as bytes). */
  readonly files: Readonly<Record<string, string | Buffer>>;
  /** Modification time of every entry (helm push's `created` comes from Chart.yaml's). */
  readonly mtime?: Date;
}

/** The chart as a `.tgz` (gzip of a tar, entries in the order given). */
export async function chartTgz(chart: ChartFixture): Promise<Buffer> {
  const archive = pack();
  const bytes = buffer(archive);
  for (const [path, data] of Object.entries(chart.files)) {
    const header = { name: `${chart.dir}/${path}`, mode: 0o644, mtime: chart.mtime ?? new Date(0) };
    await new Promise<void>((resolve, reject) =>
      archive.entry(header, Buffer.from(data), (err) => (err ? reject(err) : resolve())),
    );
  }
  archive.finalize();
  return gzipSync(await bytes);
}

/** Hex sha256 (computed here, not by Ferry's digest module). */
export const sha256Hex = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** One `entries.<name>[]` item of an index. */
export interface IndexEntry {
  readonly name: string;
  readonly version: string;
  readonly urls: readonly string[];
  readonly digest?: string;
}

/** An `index.yaml` as `helm repo index` writes one (YAML, apiVersion v1, entries by name). */
export function indexYaml(entries: readonly IndexEntry[]): string {
  const byName = new Map<string, IndexEntry[]>();
  for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  let out = 'apiVersion: v1\nentries:\n';
  for (const [name, list] of byName) {
    out += `  ${name}:\n`;
    for (const e of list) {
      out += `  - apiVersion: v2\n    name: ${e.name}\n    version: ${e.version}\n    created: "2024-01-01T00:00:00Z"\n`;
      if (e.digest !== undefined) out += `    digest: ${e.digest}\n`;
      out += `    urls:\n${e.urls.map((u) => `    - ${u}\n`).join('')}`;
    }
  }
  return `${out}generated: "2024-01-01T00:00:00Z"\n`;
}

/** A chart repository served over HTTPS on loopback. */
export interface ChartServer {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  readonly host: string;
  /** Every request's path, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves `files` (path → bytes) over HTTPS with the given certificate; anything else is a 404. */
export async function startChartServer(
  files: ReadonlyMap<string, Buffer>,
  tls: { certFile: string; keyFile: string },
): Promise<ChartServer> {
  const requests: string[] = [];
  const server = createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(new URL(req.url ?? '/', 'https://127.0.0.1').pathname);
    if (body === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
