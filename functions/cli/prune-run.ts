/** `ferry prune`'s work, loaded when the command runs (see prune.ts for the command and its flags). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseImageSet } from '../mirror/image-set/document.js';
import { applyPrune, type PruneItemResult, type PrunePlan, planPrune } from '../mirror/prune.js';
import { parseDeletePlan } from '../mirror/workspace/delete-plan.js';
import { writeDeletePlan } from '../mirror/workspace/workspace.js';
import { describeError, UsageError } from '../oci/errors.js';
import { type ImageReference, parseImageReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { Env } from '../contract.js';
import { deleterOnDemand } from './deleter.js';
import { createCliLogger } from './log.js';
import { setSources, sourceRegistries } from './set-sources.js';
import { createRuntime, type Runtime } from './runtime.js';

/** `ferry prune`'s flags: one of --config / --delete-yaml-file, the target, registry access. */
export interface PruneFlags {
  readonly config?: string;
  readonly deleteYamlFile?: string;
  readonly to: string;
  readonly workspace: string;
  readonly concurrency: number;
  readonly json?: boolean;
  readonly srcCreds?: string;
  readonly srcCredsFile?: string;
  readonly destCreds?: string;
  readonly destCredsFile?: string;
  readonly authfile?: string;
  readonly insecure: string[];
  readonly tlsVerify: string[];
  readonly caFile?: string;
  readonly registryEndpoint: string[];
}

/** Plans (`--config`) or carries out (`--delete-yaml-file`) a prune; the exit code. */
export function runPrune(flags: PruneFlags, debug: boolean): Promise<number> {
  return flags.config !== undefined ? runPlan(flags.config, flags, debug) : runApply(flags, debug);
}

async function runPlan(config: string, flags: PruneFlags, debug: boolean): Promise<number> {
  const target = parseTarget(flags.to);
  const text = await readText('--config', config);
  const { set, warnings } = usage(`--config ${config}`, () => parseImageSet(text));
  for (const warning of warnings) process.stderr.write(`ferry: warning: ${warning}\n`);
  const runtime = await runtimeFor(flags, debug, sourceRegistries(set), target.registry);
  const updateGraphUrl = process.env[Env.updateUrlOverride] || undefined;
  try {
    const plan = await planPrune(
      set,
      { source: setSources(runtime), destination: (ref) => repositoryOf(runtime, ref, 'destination') },
      target,
      { concurrency: flags.concurrency, ...(updateGraphUrl === undefined ? {} : { updateGraphUrl }) },
    );
    for (const repository of plan.untouched)
      process.stderr.write(
        `ferry: warning: ${repository} not pruned: a source repository of its policy lists no tags\n`,
      );
    const path = await writeDeletePlan(flags.workspace, plan.items);
    process.stdout.write(planLines(plan, flags.json === true));
    process.stderr.write(
      `${plan.items.length} tags to delete, ${plan.kept.length} kept (digest still needed) in ${plan.repositories.length} repositories; plan written to ${resolve(flags.workspace, path)}\n`,
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

async function runApply(flags: PruneFlags, debug: boolean): Promise<number> {
  const file = flags.deleteYamlFile!;
  const text = await readText('--delete-yaml-file', file);
  const items = usage(`--delete-yaml-file ${file}`, () => parseDeletePlan(text, { within: flags.to }));
  // parseDeletePlan's `within` keeps every item on this one registry.
  const runtime = await runtimeFor(flags, debug, [], parseTarget(flags.to).registry);
  try {
    const results = await applyPrune(
      items,
      { destination: (ref) => repositoryOf(runtime, ref, 'destination'), deleter: deleterOnDemand() },
      {
        concurrency: flags.concurrency,
        onResult: (r) => process.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `${describeItem(r)}\n`),
      },
    );
    const count = (status: PruneItemResult['status']): number => results.filter((r) => r.status === status).length;
    process.stderr.write(
      `${results.length} items: ${count('deleted')} deleted, ${count('skipped')} skipped, ${count('failed')} failed\n`,
    );
    return count('failed') > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

/** `REGISTRY[/PREFIX]`, checked as a reference would be: the registry canonical, the prefix a path. */
function parseTarget(to: string): { registry: string; prefix?: string } {
  const bare = to.replace(/^docker:\/\//, '').replace(/\/+$/, '');
  const slash = bare.indexOf('/');
  const ref = usage(`--to ${to}`, () => parseImageReference(`${slash < 0 ? bare : bare.slice(0, slash)}/x`));
  const prefix = slash < 0 ? undefined : bare.slice(slash + 1);
  if (prefix !== undefined) usage(`--to ${to}`, () => parseImageReference(`${ref.registry}/${prefix}/x`));
  return { registry: ref.registry, ...(prefix === undefined ? {} : { prefix }) };
}

function runtimeFor(flags: PruneFlags, debug: boolean, source: string[], destination: string): Promise<Runtime> {
  return createRuntime({ ...flags, createRepositories: false }, createCliLogger(debug), {
    source,
    destination: [destination],
  });
}

function repositoryOf(runtime: Runtime, ref: ImageReference, role: 'source' | 'destination'): Repository {
  return runtime.registries.repository({ kind: 'registry', ref }, role);
}

function planLines(plan: PrunePlan, json: boolean): string {
  const lines = [
    ...plan.items.map((i) =>
      json
        ? JSON.stringify({ destination: i.destination, source: i.source, digest: i.digest, action: 'would-delete' })
        : `would-delete ${i.destination} ${i.digest}`,
    ),
    ...plan.kept.map((k) =>
      json
        ? JSON.stringify({ destination: k.destination, digest: k.digest, action: 'keep', reason: k.reason })
        : `keep         ${k.destination} ${k.digest} (${k.reason === 'referrer' ? 'signature or referrer of a kept image' : 'digest still tagged or needed by the set'})`,
    ),
  ];
  return lines.map((l) => `${l}\n`).join('');
}

function describeItem(r: PruneItemResult): string {
  const head = `${r.status.padEnd(8)} ${r.destination} ${r.digest}`;
  if (r.status === 'skipped') return `${head}: ${r.reason}${r.current ? `, now ${r.current}` : ''}`;
  if (r.status === 'failed') return `${head}: ${r.error}`;
  return head;
}

/** An unreadable file is the caller's mistake (exit 2), as a bad document is. */
async function readText(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}`, { cause: err });
  }
}

function usage<T>(what: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw new UsageError(`${what}: ${describeError(err)}`, { cause: err });
  }
}
