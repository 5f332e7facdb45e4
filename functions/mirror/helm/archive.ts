import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { normalizeLayerPath } from '../content/layer-files.js';
import { HelmError, helmLimits } from './errors.js';

// A chart archive as `helm package` writes it: a gzipped tar whose entries all sit under one
// directory named after the chart (`podinfo/Chart.yaml`, `podinfo/templates/…`); helm's loader
// strips that first element. Subcharts (`charts/`) are not read: their images are not the chart's.

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
}

const wanted = (path: string): boolean =>
  path === 'Chart.yaml' ||
  path === 'values.yaml' ||
  path === 'requirements.yaml' ||
  (path.startsWith('templates/') && !path.endsWith('/'));

/**
 * Reads Chart.yaml, values.yaml and the templates of a chart `.tgz` held in memory (already
 * size-capped by its reader), each file at most `helmLimits.fileBytes`, all of them together at
 * most `helmLimits.chartFilesBytes`. A broken archive or one without Chart.yaml is
 * `HELM_CHART_INVALID`; a cap passed `HELM_TOO_LARGE`.
 */
export async function readChartArchive(bytes: Buffer, where: string): Promise<ChartFiles> {
  const extract = tarExtract();
  const done = pipeline(Readable.from([bytes]), createGunzip(), extract);
  done.catch(() => undefined);
  const files = new Map<string, Buffer>();
  let chartYamlTime = new Date(0);
  let total = 0;
  let entries = 0;
  try {
    for await (const entry of extract) {
      if (++entries > helmLimits.entries)
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
        total += size;
        if (total > helmLimits.chartFilesBytes)
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
  const chartYaml = files.get('Chart.yaml');
  if (chartYaml === undefined) throw new HelmError('HELM_CHART_INVALID', `${where}: no Chart.yaml`);
  const valuesYaml = files.get('values.yaml');
  const requirementsYaml = files.get('requirements.yaml');
  const templates = new Map([...files].filter(([path]) => path.startsWith('templates/')));
  return {
    chartYaml,
    ...(valuesYaml === undefined ? {} : { valuesYaml }),
    ...(requirementsYaml === undefined ? {} : { requirementsYaml }),
    templates,
    chartYamlTime,
  };
}
