import semver from 'semver';
import { z } from 'zod';
import { parseImageReference } from '../../oci/reference.js';
import type { ReleaseArch } from './arch.js';
import { ReleaseError } from './errors.js';

// The OpenShift update graph (Cincinnati, `GET <url>?channel=<name>&arch=<arch>`):
// `{nodes: [{version, payload, metadata}], edges: [[from, to], …]}`, edges as indexes into nodes.
// See github.com/openshift/cincinnati docs/design/cincinnati.md ("Graph API") and oc-mirror v2
// internal/pkg/release/core-cincinnati.go (GetChannelMinOrMax, GetUpdatesInRange, getGraphData).

/** oc-mirror's `UpdateURL`: the update graph of OpenShift (OCP) releases. */
export const defaultUpdateGraphUrl = 'https://api.openshift.com/api/upgrades_info/v1/graph';

/** The one thing the graph needs from the network: a GET whose JSON body is returned decoded. */
export interface JsonGetter {
  getJson(url: string): Promise<unknown>;
}

/** Limits on a graph (the real stable channels hold a few hundred nodes). */
export const graphLimits = { nodes: 20_000, edges: 500_000 } as const;

const graphSchema = z.looseObject({
  nodes: z
    .array(
      z.looseObject({
        version: z.string().refine((v) => semver.valid(v) === v, { message: 'not a semver version' }),
        payload: z.string().superRefine((value, ctx) => {
          try {
            if (parseImageReference(value).digest === undefined)
              ctx.addIssue({ code: 'custom', message: `payload "${value}" is not a reference by digest` });
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
          }
        }),
      }),
    )
    .max(graphLimits.nodes),
  edges: z
    .array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]))
    .max(graphLimits.edges)
    .nullish(),
});

/** A release in the graph: its version and its release image by digest. */
export interface GraphNode {
  readonly version: string;
  readonly payload: string;
}

/** A validated update graph of one channel and architecture. */
export interface UpdateGraph {
  readonly nodes: GraphNode[];
  readonly edges: (readonly [number, number])[];
}

/** A channel as a set names it: the head, or a version range. */
export interface ChannelRange {
  readonly minVersion?: string;
  readonly maxVersion?: string;
}

/** `<base>?channel=<name>&arch=<arch>`, other query parameters of `base` kept (as oc-mirror's SetQueryParams). */
export function graphUrl(base: string, channel: string, arch: ReleaseArch): string {
  const url = new URL(base);
  url.searchParams.set('channel', channel);
  url.searchParams.set('arch', arch);
  return url.toString();
}

/** Validates a graph body: every payload by digest, every edge within the nodes. */
export function parseGraph(value: unknown, where: string): UpdateGraph {
  const parsed = graphSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ReleaseError(
      'UPDATE_GRAPH_INVALID',
      `update graph ${where}: ${issue.path.map(String).join('.')}: ${issue.message}`,
    );
  }
  const nodes = parsed.data.nodes.map(({ version, payload }) => ({ version, payload }));
  const edges = parsed.data.edges ?? [];
  const bad = edges.find(([from, to]) => from >= nodes.length || to >= nodes.length);
  if (bad !== undefined)
    throw new ReleaseError('UPDATE_GRAPH_INVALID', `update graph ${where}: edge [${bad.join(',')}] names no node`);
  return { nodes, edges };
}

/** Fetches and validates the graph of `channel` for `arch` through `getter`. */
export async function fetchGraph(
  getter: JsonGetter,
  base: string,
  channel: string,
  arch: ReleaseArch,
): Promise<UpdateGraph> {
  return parseGraph(await getter.getJson(graphUrl(base, channel, arch)), `of channel ${channel} (${arch})`);
}

/**
 * The releases of a channel a set selects, oc-mirror v2's way without `shortestPath`/`full`:
 * no range → the head (the highest version); `minVersion` only → min..head; `maxVersion` only →
 * the channel's lowest..max; both → every node in min..max. Inclusive, semver order, lowest first;
 * a payload named by two nodes once. Nothing selected is an `UPDATE_GRAPH_EMPTY` error.
 */
export function selectReleases(graph: UpdateGraph, range: ChannelRange, where: string): GraphNode[] {
  const sorted = [...graph.nodes].sort((a, b) => semver.compare(a.version, b.version));
  const head = sorted.at(-1);
  if (head === undefined) throw new ReleaseError('UPDATE_GRAPH_EMPTY', `${where}: the channel has no releases`);
  const { minVersion, maxVersion } = range;
  const chosen =
    minVersion === undefined && maxVersion === undefined
      ? [head]
      : sorted.filter(
          (n) =>
            (minVersion === undefined || semver.gte(n.version, minVersion)) &&
            (maxVersion === undefined || semver.lte(n.version, maxVersion)),
        );
  if (chosen.length === 0)
    throw new ReleaseError(
      'UPDATE_GRAPH_EMPTY',
      `${where}: no release between ${minVersion ?? 'the first'} and ${maxVersion ?? 'the head'}`,
    );
  const seen = new Set<string>();
  return chosen.filter((n) => !seen.has(n.payload) && seen.add(n.payload));
}
