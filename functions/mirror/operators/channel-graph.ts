import semver from 'semver';
import { CatalogError } from './errors.js';
import type { CatalogChannel } from './model.js';

// A channel's upgrade graph as oc-mirror v2 walks it: a port of newChannel and
// filterByVersionRange in github.com/sherine-k/catalog-filter
// pkg/filter/mirror-config/v1alpha1/channel.go (commit 2d0c61b, March 2025, after the OOM fix of
// OCPBUGS-52471; oc-mirror's go.mod requires v0.0.5; its internal/pkg/operator/catalog_handler.go
// calls this filter). Edges are `replaces` and `skips` only:
// `skipRange` is not an edge there (nor in opm's model.Channel.Head), so it is not one here.

interface Node {
  readonly name: string;
  replaces?: Node;
  readonly skips: Set<Node>;
}

/** A channel whose graph has exactly one head and no cycle. */
export interface ChannelGraph {
  readonly head: string;
  /** The bundle names in the range along the graph (see {@link ChannelGraph.inRange}). */
  inRange(range: string, versions: ReadonlyMap<string, string>): Set<string>;
}

/**
 * Builds the graph of `channel` and checks it as catalog-filter's newChannel does: no duplicate
 * entries, nothing replacing or skipping itself, exactly one head (an entry nothing replaces or
 * skips), no cycle. Otherwise a `CATALOG_INVALID` {@link CatalogError}.
 */
export function channelGraph(channel: CatalogChannel): ChannelGraph {
  const where = `${channel.package}/${channel.name}`;
  if (channel.entries.length === 0) throw new CatalogError('CATALOG_INVALID', where, 'channel has no entries');
  const nodes = new Map<string, Node>();
  const node = (name: string): Node => {
    let n = nodes.get(name);
    if (n === undefined) nodes.set(name, (n = { name, skips: new Set() }));
    return n;
  };
  const incoming = new Map<string, Set<Node>>();
  const addEdge = (to: Node, from: Node): void => {
    const set = incoming.get(to.name) ?? new Set<Node>();
    incoming.set(to.name, set.add(from));
  };
  const seen = new Set<string>();
  for (const e of channel.entries) {
    if (seen.has(e.name)) throw new CatalogError('CATALOG_INVALID', where, `duplicate channel entry "${e.name}"`);
    seen.add(e.name);
    const n = node(e.name);
    if (e.replaces !== undefined && e.replaces !== '') {
      if (e.replaces === e.name) throw new CatalogError('CATALOG_INVALID', where, `entry "${e.name}" replaces itself`);
      n.replaces = node(e.replaces);
      addEdge(n.replaces, n);
    }
    for (const skip of e.skips ?? []) {
      if (skip === e.name) throw new CatalogError('CATALOG_INVALID', where, `entry "${e.name}" skips itself`);
      n.skips.add(node(skip));
      addEdge(node(skip), n);
    }
  }
  const heads = channel.entries.filter((e) => (incoming.get(e.name)?.size ?? 0) === 0).map((e) => e.name);
  if (heads.length === 0) throw new CatalogError('CATALOG_INVALID', where, 'no channel heads found');
  if (heads.length > 1)
    throw new CatalogError('CATALOG_INVALID', where, `multiple channel heads found: ${heads.sort().join(', ')}`);
  const head = nodes.get(heads[0]!)!;
  checkAcyclic(where, head, incoming);
  return { head: head.name, inRange: (range, versions) => filterByVersionRange(head, range, versions) };
}

/** catalog-filter's topological walk: edges left untraversed mean a cycle. */
function checkAcyclic(where: string, head: Node, incoming: Map<string, Set<Node>>): void {
  const queue = [head];
  const release = (to: Node, from: Node): void => {
    const set = incoming.get(to.name);
    if (set === undefined) return;
    set.delete(from);
    if (set.size === 0) {
      incoming.delete(to.name);
      queue.push(to);
    }
  };
  while (queue.length > 0) {
    const cur = queue.shift()!;
    if (cur.replaces !== undefined) release(cur.replaces, cur);
    for (const skip of cur.skips) release(skip, cur);
  }
  if (incoming.size > 0)
    throw new CatalogError('CATALOG_INVALID', where, 'detected a cycle in the upgrade graph of the channel');
}

/**
 * catalog-filter's filterByVersionRange: along the `replaces` chain from the head, count for each
 * node the in-range bundles at or below it (itself, its skips, and its replaces' count; each bundle
 * counted once, deepest first). The new head is the lowest node holding the maximum count; the tail
 * the first node whose count is 0 (excluded). Kept: every chain node from head to tail (even out of
 * range, so that the graph stays connected) and the skipped bundles in range.
 */
function filterByVersionRange(head: Node, range: string, versions: ReadonlyMap<string, string>): Set<string> {
  const parsed = new semver.Range(range, { includePrerelease: true });
  const inRange = (n: Node): boolean => {
    const v = versions.get(n.name);
    return v !== undefined && satisfies(v, parsed);
  };
  const chain: Node[] = [];
  const onChain = new Set<Node>();
  for (let cur: Node | undefined = head; cur !== undefined && !onChain.has(cur); cur = cur.replaces) {
    chain.push(cur);
    onChain.add(cur);
  }
  const counted = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = chain.length - 1; i >= 0; i--) {
    const n = chain[i]!;
    let count = i + 1 < chain.length ? counts.get(chain[i + 1]!.name)! : 0;
    for (const m of [n, ...n.skips]) {
      if (!counted.has(m.name) && inRange(m)) {
        counted.add(m.name);
        count++;
      }
    }
    counts.set(n.name, count);
  }
  let newHead = 0;
  let tail = chain.length;
  let max = -1;
  for (let i = 0; i < chain.length; i++) {
    const count = counts.get(chain[i]!.name)!;
    if (count >= max) [newHead, max] = [i, count];
    if (count === 0) {
      tail = i;
      break;
    }
  }
  const keep = new Set<string>();
  for (let i = newHead; i < tail; i++) {
    keep.add(chain[i]!.name);
    for (const skip of chain[i]!.skips) if (inRange(skip)) keep.add(skip.name);
  }
  return keep;
}

/**
 * Masterminds semver v3 (what catalog-filter uses): a prerelease version fails every comparator
 * whose own version has no prerelease (so `>=1.0.0-mas` admits `1.1.0-mas`, `>=1.0.0` does not);
 * otherwise versions compare as usual, prereleases included.
 */
function satisfies(version: string, range: semver.Range): boolean {
  const v = semver.parse(version);
  if (v === null) return false;
  if (v.prerelease.length > 0 && !range.set.every((set) => set.every((c) => c.semver.prerelease.length > 0)))
    return false;
  return range.test(v);
}
