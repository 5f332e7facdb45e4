import type { PullBudget } from '../mirror/pull-budget.js';
import type { PlanItem } from '../mirror/workspace/plan.js';
import { parseImageReference } from '../oci/reference.js';

/**
 * What a run will cost against each upstream's pull budget, one line per source registry:
 * `docker.io: 42 manifest GETs, budget 76 left of 100 per 6h` when this process learnt the
 * budget from a response (the plan's own GETs), `…, budget unknown` otherwise. Only images a
 * run would copy count: an up-to-date one costs HEADs, which are free.
 */
export async function describePullCosts(items: readonly PlanItem[], budget: PullBudget): Promise<string[]> {
  const gets = new Map<string, number>();
  for (const item of items) {
    if (item.action !== 'copy') continue;
    const registry = registryOf(item.source);
    if (registry !== undefined) gets.set(registry, (gets.get(registry) ?? 0) + (item.manifestGets ?? 0));
  }
  const lines: string[] = [];
  for (const [registry, count] of [...gets].sort(([a], [b]) => a.localeCompare(b))) {
    const known = await budget.known(registry);
    const left =
      known === undefined
        ? 'budget unknown'
        : `budget ${known.remaining} left of ${known.limit} per ${formatWindow(known.windowMs)}`;
    lines.push(`${registry}: ${count} manifest GETs, ${left}`);
  }
  return lines;
}

function registryOf(source: string): string | undefined {
  try {
    return parseImageReference(source).registry;
  } catch {
    return undefined; // not a registry reference (a chart's URL): no pull budget
  }
}

/** `6h`, `90m`, `1s`: a window as registries state it. */
function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
