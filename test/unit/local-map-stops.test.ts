import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalWorkflow } from '../../functions/local/local-workflow.js';
import type { Logger } from '../../functions/oci/log.js';

/**
 * The Map semantics `ferry serve` adds to its interpreter (functions/local/local-map-stops.ts), on
 * a small definition: five items, one task per item (item 1 fails), then a task that sees how
 * the Map ended.
 */

const task = (name: string) => `arn:aws:lambda:local:000000000000:function:ferry-${name}`;
const distributed = { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } };

/** Writes the definition; `map` adds to (or overrides) the Map state, `processor` to its ItemProcessor. */
function definition(map: Record<string, unknown> = {}, processor: Record<string, unknown> = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-map-')), 'asl.json');
  const asl = {
    StartAt: 'Setup',
    States: {
      Setup: {
        Type: 'Pass',
        Parameters: { 'runId.$': '$.runId', items: [0, 1, 2, 3, 4], tolerance: 0, allTolerated: 100 },
        Next: 'Items',
      },
      Items: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemSelector: { 'runId.$': '$.runId', 'item.$': '$$.Map.Item.Value' },
        MaxConcurrency: 1,
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stopped', Next: 'After' }],
        Next: 'After',
        ItemProcessor: {
          StartAt: 'Work',
          States: { Work: { Type: 'Task', Resource: task('work'), End: true } },
          ...processor,
        },
        ...map,
      },
      After: { Type: 'Task', Resource: task('after'), End: true },
    },
  };
  writeFileSync(file, JSON.stringify(asl));
  return file;
}

/** Runs the definition (twice, when asked: a new execution of the same run starts afresh); returns the items worked on and what `After` saw. */
async function run(file: string, executions = 1): Promise<{ worked: number[]; after: unknown }> {
  const worked: number[] = [];
  let after: unknown;
  const logger: Logger = { debug() {}, info() {}, warn() {} };
  const workflow = new LocalWorkflow({
    definitionFile: file,
    logger,
    tasks: {
      work: async (input) => {
        const { item } = input as { item: number };
        worked.push(item);
        if (item === 1) throw Object.assign(new Error('item 1 broke'), { name: 'ItemError' });
        return {};
      },
      after: async (input) => {
        after = input;
        return {};
      },
    },
  });
  for (let i = 0; i < executions; i++) {
    await workflow.start('run-a');
    await workflow.drain();
  }
  return { worked, after };
}

describe('local Map semantics (what Step Functions does and aws-local-stepfunctions does not)', () => {
  it('an inline Map stops at its first failed item: no queued item starts, the Map fails with the item’s error', async () => {
    const { worked, after } = await run(definition());
    expect(worked).toEqual([0, 1]);
    expect(after).toMatchObject({ stopped: { Error: 'ItemError', Cause: 'item 1 broke' } });
  });

  it('a new execution of the run starts its Maps afresh', async () => {
    expect((await run(definition(), 2)).worked).toEqual([0, 1, 0, 1]);
  });

  it.each([
    ['ToleratedFailurePercentagePath 0', { ToleratedFailurePercentagePath: '$.tolerance' }],
    ['ToleratedFailurePercentage 0', { ToleratedFailurePercentage: 0 }],
    ['no tolerance', {}],
  ])('a Distributed Map with %s stops at its first failed child', async (_name, tolerance) => {
    const { worked, after } = await run(definition(tolerance, distributed));
    expect(worked).toEqual([0, 1]);
    expect(after).toMatchObject({ stopped: { Error: 'States.ExceedToleratedFailureThreshold' } });
  });

  it.each([
    ['ToleratedFailurePercentagePath 100', { ToleratedFailurePercentagePath: '$.allTolerated' }],
    ['ToleratedFailurePercentage 100', { ToleratedFailurePercentage: 100 }],
  ])('a Distributed Map with %s runs every child past a failure', async (_name, tolerance) => {
    const { worked, after } = await run(definition(tolerance, distributed));
    expect(worked).toEqual([0, 1, 2, 3, 4]);
    expect(after).not.toHaveProperty('stopped');
  });
});
