import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LocalPathError } from '../../oci/errors.js';
import { clusterResourcesDir, formatIdms, formatItms, idmsFileName, itmsFileName } from './cluster-resources.js';
import { type DeletePlanItem, deleteImagesPath, formatDeletePlan } from './delete-plan.js';
import type { WorkspaceEntry, WorkspaceError } from './entry.js';
import { formatMapping } from './mapping.js';
import { formatMirroringErrors, mirroringErrorsFileName } from './mirroring-errors.js';
import { formatPlan, type Plan } from './plan.js';

/** The few file operations the workspace needs; node:fs by default, an in-memory map in unit tests. */
export interface WorkspaceFs {
  /** Creates a directory and its parents; succeeds when it exists. */
  mkdir(path: string): Promise<void>;
  writeFile(path: string, data: string): Promise<void>;
  /** Replaces `to` with `from` atomically (POSIX rename within one directory). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; succeeds when there is none. */
  remove(path: string): Promise<void>;
  /** The names in a directory; none when it does not exist. */
  list(path: string): Promise<string[]>;
}

/** The workspace port on node:fs. */
export const nodeWorkspaceFs: WorkspaceFs = {
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
  writeFile: (path, data) => writeFile(path, data, { mode: 0o644 }),
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  list: async (path) => {
    try {
      return await readdir(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  },
};

/** Workspace paths, relative to its directory. */
export const workspacePaths = {
  mapping: 'mapping.txt',
  idms: `${clusterResourcesDir}/${idmsFileName}`,
  itms: `${clusterResourcesDir}/${itmsFileName}`,
  errors: mirroringErrorsFileName,
  dryRunMapping: 'dry-run/mapping.txt',
  dryRunPlan: 'dry-run/plan.json',
  deletePlan: deleteImagesPath,
} as const;

/** What a run leaves in its workspace. A dry run carries its plan. */
export type WorkspaceRun =
  | {
      readonly entries: readonly WorkspaceEntry[];
      readonly errors?: readonly WorkspaceError[];
      readonly dryRun?: false;
      /** More `cluster-resources/` files (a rebuilt catalog's `cs-<…>.yaml`, `cc-<…>.yaml`): name and YAML. */
      readonly clusterResources?: readonly { readonly name: string; readonly yaml: string }[];
      /** `release-signatures/` files: the ConfigMaps carrying the mirrored releases' signatures. */
      readonly releaseSignatures?: readonly { readonly name: string; readonly content: string }[];
    }
  | {
      readonly entries: readonly WorkspaceEntry[];
      readonly errors?: readonly WorkspaceError[];
      readonly dryRun: true;
      readonly plan: Plan;
    };

/** What a write did, relative to the workspace: files written, and files this run has nothing for (removed if there). */
export interface WorkspaceWrite {
  readonly written: string[];
  readonly removed: string[];
}

/**
 * Writes a run's files into `dir`, oc-mirror's working-directory layout (issue 9): `mapping.txt`;
 * `cluster-resources/idms-oc-mirror.yaml` when any image was mirrored by digest and
 * `itms-oc-mirror.yaml` when any by tag; `mirroring_errors.txt` when any failed. A file a run has
 * nothing for is removed if an earlier run left it, so that `oc apply -f cluster-resources/` never
 * applies a stale mirror set and an old error list never reads as this run's. A dry run writes
 * `dry-run/mapping.txt` and `dry-run/plan.json` only, and leaves the last real run's files alone.
 *
 * Every file is written to a temporary name beside it and renamed over it: a reader sees the old
 * file or the new one, never half of one. Failures are {@link LocalPathError}s naming the path.
 */
export async function writeWorkspace(
  dir: string,
  run: WorkspaceRun,
  fs: WorkspaceFs = nodeWorkspaceFs,
): Promise<WorkspaceWrite> {
  const files: [string, string | undefined][] = run.dryRun
    ? [
        [workspacePaths.dryRunMapping, formatMapping(run.entries)],
        [workspacePaths.dryRunPlan, formatPlan(run.plan)],
      ]
    : [
        [workspacePaths.mapping, formatMapping(run.entries)],
        [workspacePaths.idms, formatIdms(run.entries)],
        [workspacePaths.itms, formatItms(run.entries)],
        [workspacePaths.errors, formatMirroringErrors(run.entries, run.errors)],
        ...(run.clusterResources ?? []).map((f): [string, string] => [
          `${clusterResourcesDir}/${checkName(f.name, clusterResourcesDir)}`,
          f.yaml,
        ]),
        ...(run.releaseSignatures ?? []).map((f): [string, string] => [
          `${releaseSignaturesDir}/${checkName(f.name, releaseSignaturesDir)}`,
          f.content,
        ]),
      ];
  if (!run.dryRun) {
    // A catalog or release of an earlier run that this run no longer has: its CatalogSource,
    // ClusterCatalog or signature ConfigMap must not be applied with this run's files.
    const generated = new Set(files.map(([path]) => path));
    const stale = async (sub: string, ours: (name: string) => boolean): Promise<string[]> =>
      (await guard(join(dir, sub), () => fs.list(join(dir, sub))))
        .filter(ours)
        .map((name) => `${sub}/${name}`)
        .filter((path) => !generated.has(path));
    files.push(
      ...[
        ...(await stale(clusterResourcesDir, (name) => /^c[sc]-.*\.yaml$/.test(name))),
        ...(await stale(releaseSignaturesDir, (name) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))),
      ].map((path): [string, undefined] => [path, undefined]),
    );
  }
  const result: WorkspaceWrite = { written: [], removed: [] };
  for (const [path, content] of files) {
    if (content === undefined) {
      await guard(join(dir, path), () => fs.remove(join(dir, path)));
      result.removed.push(path);
    } else {
      await writeAtomically(fs, join(dir, path), content);
      result.written.push(path);
    }
  }
  return result;
}

/** A generated file's name is one path component (it comes from a registry path or a digest). */
function checkName(name: string, dir: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new LocalPathError(`cannot write workspace file ${dir}/${name}: not a plain file name`);
  return name;
}

/** Where a run's release signatures go, as `oc adm release mirror --release-image-signature-to-dir` writes them. */
export const releaseSignaturesDir = 'release-signatures';

/** Writes `delete/delete-images.yaml` (`ferry prune --config`) into `dir`; returns its relative path. */
export async function writeDeletePlan(
  dir: string,
  items: readonly DeletePlanItem[],
  fs: WorkspaceFs = nodeWorkspaceFs,
): Promise<string> {
  await writeAtomically(fs, join(dir, workspacePaths.deletePlan), formatDeletePlan(items));
  return workspacePaths.deletePlan;
}

/** Temporary file beside the target, then rename; the temporary file is removed if anything fails. */
async function writeAtomically(fs: WorkspaceFs, path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await guard(path, async () => {
    await fs.mkdir(dirname(path));
    try {
      await fs.writeFile(temporary, content);
      await fs.rename(temporary, path);
    } catch (err) {
      await fs.remove(temporary).catch(() => undefined);
      throw err;
    }
  });
}

async function guard<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new LocalPathError(`cannot write workspace file ${path}: ${why}`, { cause: err });
  }
}
