import type { Digest } from '../../oci/digest.js';
import { type Descriptor, describeManifest } from '../../oci/manifest.js';
import type { Repository } from '../../oci/repository.js';
import { fallbackTag, getIfPresent } from '../referrers.js';

// `ferry discover` as `oras discover` (1.3) shows referrers (docs/oras-format.md §5): the
// referrers API when the registry has it, else the `sha256-<hex>` fallback tag index; filtered by
// artifact type; each referrer's own referrers below it (signatures of an SBOM), cycles cut.

/** A node of the referrers tree, in oras 1.3's JSON shape. */
export interface ReferrerNode {
  readonly reference: string;
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  readonly referrers: ReferrerNode[];
}

export interface DiscoverOptions {
  readonly artifactType?: string;
  /** Levels of referrers listed (default 10: deeper chains are cut). */
  readonly depth?: number;
}

/** The referrers of `digest` in `repository`: the API's list, else the fallback tag's, else none. */
export async function listReferrers(repository: Repository, digest: Digest): Promise<Descriptor[]> {
  const fromApi = await repository.referrers(digest);
  if (fromApi !== undefined) return fromApi;
  const index = await getIfPresent(repository, fallbackTag(digest));
  return index?.kind === 'index' ? index.index.manifests : [];
}

/** The tree of what refers to `reference` (a tag or digest) in `repository`. */
export async function discoverReferrers(
  repository: Repository,
  reference: string,
  options: DiscoverOptions = {},
): Promise<ReferrerNode> {
  const subject = describeManifest(await repository.getManifest(reference));
  const at = (digest: Digest): string => `${repository.registry ?? ''}/${repository.name}@${digest}`.replace(/^\//, '');
  const seen = new Set<string>([subject.digest]);
  const below = async (digest: Digest, depth: number): Promise<ReferrerNode[]> => {
    if (depth <= 0) return [];
    const found = (await listReferrers(repository, digest)).filter(
      (d) => options.artifactType === undefined || d.artifactType === options.artifactType,
    );
    const nodes: ReferrerNode[] = [];
    for (const d of found) {
      if (seen.has(d.digest)) continue;
      seen.add(d.digest);
      nodes.push({
        reference: at(d.digest),
        mediaType: d.mediaType,
        digest: d.digest,
        size: d.size,
        ...(d.annotations === undefined ? {} : { annotations: d.annotations }),
        ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
        referrers: await below(d.digest, depth - 1),
      });
    }
    return nodes;
  };
  return {
    reference: at(subject.digest),
    mediaType: subject.mediaType,
    digest: subject.digest,
    size: subject.size,
    referrers: await below(subject.digest, options.depth ?? 10),
  };
}

/**
 * The tree as `oras discover` 1.3 prints it: the subject, then per artifact type (`<unknown>`
 * when none) its referrers by digest, each with its `[annotations]` (sorted here, for a stable
 * output) and its own referrers.
 */
export function formatReferrerTree(root: ReferrerNode): string {
  const lines = [root.reference];
  const children = (node: ReferrerNode): TreeItem[] => {
    const items: TreeItem[] = [];
    const annotations = Object.entries(node.annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (node !== root && annotations.length > 0)
      items.push({
        label: '[annotations]',
        children: annotations.map(([k, v]) => ({ label: `${k}: ${yamlScalar(v)}`, children: [] })),
      });
    const byType = new Map<string, ReferrerNode[]>();
    for (const r of node.referrers) {
      const type = r.artifactType ?? '<unknown>';
      byType.set(type, [...(byType.get(type) ?? []), r]);
    }
    for (const [type, nodes] of byType)
      items.push({ label: type, children: nodes.map((n) => ({ label: n.digest, children: children(n) })) });
    return items;
  };
  draw(children(root), '', lines);
  return `${lines.join('\n')}\n`;
}

interface TreeItem {
  readonly label: string;
  readonly children: TreeItem[];
}

function draw(items: readonly TreeItem[], indent: string, lines: string[]): void {
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    lines.push(`${indent}${last ? '└── ' : '├── '}${item.label}`);
    draw(item.children, `${indent}${last ? '    ' : '│   '}`, lines);
  });
}

/** A value as `yaml.Marshal` would print it in oras's tree: quoted when plain YAML would read it as something else. */
function yamlScalar(value: string): string {
  const plain = /^[A-Za-z_./][A-Za-z0-9_./ +-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value);
  return plain && value.trim() === value ? value : JSON.stringify(value);
}
