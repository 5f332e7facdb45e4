import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { normalizeLayerPath } from '../content/layer-files.js';
import { HelmError, helmLimits } from './errors.js';

// A chart archive as `helm package` writes it: a gzipped tar whose entries all sit under one
// directory named after the chart (`podinfo/Chart.yaml`, `podinfo/templates/…`); helm's loader
// strips that first element. Subcharts sit under `charts/`, as directories (`charts/redis/…`) or
// packaged (`charts/redis-18.0.0.tgz`), nested to any depth: a release installs their images too.

/** Subcharts nested deeper than this are not read (helm has no limit; real charts nest two or three). */
const maxSubchartDepth = 5;

/** A subchart: where it sits in its parent (`charts/redis`, `charts/redis-18.0.0.tgz`) and its files. */
export interface Subchart {
  readonly path: string;
  readonly files: ChartFiles;
}

/** The files of a chart Ferry reads, by path inside the chart (`Chart.yaml`, `templates/x.yaml`). */
export interface ChartFiles {
  readonly chartYaml: Buffer;
  readonly valuesYaml?: Buffer;
  /** Helm 2's requirements.yaml (its dependencies go into the metadata). */
  readonly requirementsYaml?: Buffer;
  /** `templates/**` files, in archive order. */
  readonly templates: ReadonlyMap<string, Buffer>;
  /** Chart.yaml's modification time in the archive: when `helm package` wrote it. */
  readonly chartYamlTime: Date;
  /** `charts/*`: the subcharts, in path order. */
  readonly subcharts: readonly Subchart[];
}

const ownFile = (path: string): boolean =>
  path === 'Chart.yaml' ||
  path === 'values.yaml' ||
  path === 'requirements.yaml' ||
  (path.startsWith('templates/') && !path.endsWith('/'));

/** A file of the chart or of a subchart directory at any depth (`charts/a/charts/b/values.yaml`), or a packaged subchart. */
function wanted(path: string): boolean {
  let rest = path;
  while (rest.startsWith('charts/')) {
    const parts = rest.split('/');
    if (parts.length === 2) return parts[1]!.endsWith('.tgz');
    rest = parts.slice(2).join('/');
  }
  return ownFile(rest);
}

/**
 * Reads Chart.yaml, values.yaml and the templates of a chart `.tgz` held in memory (already
 * size-capped by its reader), each file at most `helmLimits.fileBytes`, all of them together at
 * most `helmLimits.chartFilesBytes`. A broken archive or one without Chart.yaml is
 * `HELM_CHART_INVALID`; a cap passed `HELM_TOO_LARGE`.
 */
export function readChartArchive(bytes: Buffer, where: string): Promise<ChartFiles> {
  return readArchive(bytes, where, { files: 0, entries: 0, depth: 0 });
}

/** What the chart and all its packaged subcharts may still use: one budget, so nesting cannot multiply the caps. */
interface Budget {
  files: number;
  entries: number;
  readonly depth: number;
}

async function readArchive(bytes: Buffer, where: string, budget: Budget): Promise<ChartFiles> {
  const extract = tarExtract();
  const done = pipeline(Readable.from([bytes]), createGunzip(), extract);
  done.catch(() => undefined);
  const files = new Map<string, Buffer>();
  let chartYamlTime = new Date(0);
  try {
    for await (const entry of extract) {
      if (++budget.entries > helmLimits.entries)
        throw new HelmError('HELM_TOO_LARGE', `${where}: more than ${helmLimits.entries} entries`);
      const { header } = entry;
      const path = normalizeLayerPath(header.name).split('/').slice(1).join('/');
      const isFile = header.type === 'file' || header.type === 'contiguous-file';
      if (isFile && wanted(path) && !files.has(path)) {
        const size = header.size ?? 0;
        if (size > helmLimits.fileBytes)
          throw new HelmError(
            'HELM_TOO_LARGE',
            `${where}: ${path} has ${size} bytes (at most ${helmLimits.fileBytes})`,
          );
        budget.files += size;
        if (budget.files > helmLimits.chartFilesBytes)
          throw new HelmError('HELM_TOO_LARGE', `${where}: files larger than ${helmLimits.chartFilesBytes} bytes`);
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        files.set(path, Buffer.concat(chunks));
        if (path === 'Chart.yaml' && header.mtime !== undefined) chartYamlTime = header.mtime;
        continue;
      }
      for await (const _ of entry as AsyncIterable<unknown>);
    }
    await done;
  } catch (err) {
    extract.destroy();
    await done.catch(() => undefined);
    if (err instanceof HelmError) throw err;
    throw new HelmError('HELM_CHART_INVALID', `${where}: not a chart archive (gzipped tar): ${String(err)}`, {
      cause: err,
    });
  }
  return assemble(files, '', where, chartYamlTime, budget);
}

/** The chart at `prefix` of `files` (a path inside the archive) with its subcharts. */
async function assemble(
  files: ReadonlyMap<string, Buffer>,
  prefix: string,
  where: string,
  chartYamlTime: Date,
  budget: Budget,
): Promise<ChartFiles> {
  const own = (path: string): Buffer | undefined => files.get(`${prefix}${path}`);
  const chartYaml = own('Chart.yaml');
  if (chartYaml === undefined) throw new HelmError('HELM_CHART_INVALID', `${where}: no ${prefix}Chart.yaml`);
  const valuesYaml = own('values.yaml');
  const requirementsYaml = own('requirements.yaml');
  const templates = new Map(
    [...files]
      .filter(([path]) => path.startsWith(`${prefix}templates/`))
      .map(([path, bytes]) => [path.slice(prefix.length), bytes] as const),
  );
  const subcharts: Subchart[] = [];
  if (budget.depth < maxSubchartDepth) {
    const under = `${prefix}charts/`;
    const paths = new Set<string>();
    for (const path of files.keys()) {
      if (!path.startsWith(under)) continue;
      const [name, ...rest] = path.slice(under.length).split('/');
      if (rest.length === 0 ? name!.endsWith('.tgz') : files.has(`${under}${name}/Chart.yaml`)) paths.add(name!);
    }
    for (const name of [...paths].sort()) {
      const path = `charts/${name}`;
      const inner = `${where} ${prefix}${path}`;
      const deeper = { ...budget, depth: budget.depth + 1 };
      const sub = name.endsWith('.tgz')
        ? await readArchive(files.get(`${under}${name}`)!, inner, deeper)
        : await assemble(files, `${under}${name}/`, where, chartYamlTime, deeper);
      budget.files = deeper.files;
      budget.entries = deeper.entries;
      subcharts.push({ path, files: sub });
    }
  }
  return {
    chartYaml,
    ...(valuesYaml === undefined ? {} : { valuesYaml }),
    ...(requirementsYaml === undefined ? {} : { requirementsYaml }),
    templates,
    chartYamlTime,
    subcharts,
  };
}
