import { describeBudget, type PullBudget, sourceRegistry } from '../mirror/pull-budget.js';
import type { PlanItem } from '../mirror/workspace/plan.js';

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
    const registry = sourceRegistry(item.source);
    if (registry !== undefined) gets.set(registry, (gets.get(registry) ?? 0) + (item.manifestGets ?? 0));
  }
  const lines: string[] = [];
  for (const [registry, count] of [...gets].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${registry}: ${count} manifest GETs, ${describeBudget(await budget.known(registry))}`);
  }
  return lines;
}
