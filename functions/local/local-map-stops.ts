/**
 * What Step Functions does when an iteration of a Map fails, which aws-local-stepfunctions does
 * not (measured on 3.0.0): its Map aborts the iterations already running, but the ones still
 * queued behind MaxConcurrency start anyway; and a Distributed Map's ToleratedFailurePercentage
 * (or …Path) is ignored, every failure failing the Map. On AWS an inline Map stops every iteration
 * at the first failure, and a Distributed Map Run stops starting children once more failed than it
 * tolerates.
 *
 * So before `ferry serve` runs the definition, each Map's item processor is wrapped (the states of
 * the definition run unchanged inside it):
 *
 *   Guard (a local task: has this Map of this execution stopped?) ─ yes ─► Succeed (never starts)
 *     └─► Parallel [the original item processor] ─ Catch ─► tolerated? ─ yes ─► Succeed
 *                                                              └─ no ─► Stop (local task) ─► Fail
 *
 * A Distributed Map's tolerance is read once per item through its ItemSelector (the path is
 * resolved against the Map's input, as on AWS); a tolerance above 0 is taken as "every failure
 * tolerated" (Ferry's are 0 or 100: a percentage in between is not modelled). An inline Map
 * tolerates nothing, and fails with the iteration's own error.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The local tasks the wrapped item processors call, by Task state name. */
export type LocalMapHandlers = Record<string, (input: Json) => Promise<Json>>;

const isObject = (value: Json | undefined): value is JsonObject =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);

/**
 * Which Maps of which executions have stopped: their queued iterations must not start. Keyed by
 * the execution's id (the context object's `$$.Execution.Id`, which the caller must set), so a new
 * execution of the same run starts afresh. WARNING: entries are never removed — queued iterations
 * of a stopped Map can start after its execution ended, and must still find it stopped (one short
 * string per stopped Map).
 */
export class LocalMapStops {
  readonly #stopped = new Set<string>();

  /**
   * A copy of `definition` with every Map's item processor wrapped as described above, and the
   * handlers of the local tasks that wrapping added.
   */
  wrap(definition: Json): { definition: Json; handlers: LocalMapHandlers } {
    const handlers: LocalMapHandlers = {};
    const copy = structuredClone(definition);
    if (isObject(copy)) this.#wrapStates(copy.States, handlers);
    return { definition: copy, handlers };
  }

  #wrapStates(states: Json | undefined, handlers: LocalMapHandlers): void {
    if (!isObject(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state) || state.Type !== 'Map') continue;
      const processor = state.ItemProcessor ?? state.Iterator;
      if (!isObject(processor)) continue;
      this.#wrapStates(processor.States, handlers);
      const tolerance = this.#tolerance(state);
      if (tolerance !== undefined) {
        const selector = isObject(state.ItemSelector) ? state.ItemSelector : {};
        state.ItemSelector = { ...selector, ...tolerance };
      }
      const guard = `FerryLocal${name}Guard`;
      const stop = `FerryLocal${name}Stop`;
      handlers[guard] = (input) => Promise.resolve({ stopped: this.#stopped.has(this.#key(input, name)) });
      handlers[stop] = (input) => {
        this.#stopped.add(this.#key(input, name));
        return Promise.resolve(null);
      };
      const { ProcessorConfig: _config, ...original } = processor;
      state.ItemProcessor = this.#processor(name, original, guard, stop, tolerance !== undefined);
      delete state.Iterator;
    }
  }

  /** The ItemSelector field that carries a Distributed Map's tolerance to each item; undefined for an inline Map. */
  #tolerance(map: JsonObject): JsonObject | undefined {
    const config = isObject(map.ItemProcessor) ? map.ItemProcessor.ProcessorConfig : undefined;
    if (!isObject(config) || config.Mode !== 'DISTRIBUTED') return undefined;
    if (typeof map.ToleratedFailurePercentagePath === 'string')
      return { 'ferryLocalTolerance.$': map.ToleratedFailurePercentagePath };
    return {
      ferryLocalTolerance: typeof map.ToleratedFailurePercentage === 'number' ? map.ToleratedFailurePercentage : 0,
    };
  }

  #processor(name: string, original: JsonObject, guard: string, stop: string, distributed: boolean): JsonObject {
    const local = (step: string) => `FerryLocal${name}${step}`;
    const task = (resource: string, next: string, resultPath: string | null): JsonObject => ({
      Type: 'Task',
      Resource: `arn:aws:lambda:local:000000000000:function:ferry-local-${resource}`,
      Parameters: { 'execution.$': '$$.Execution.Id' },
      ResultPath: resultPath,
      Next: next,
    });
    return {
      StartAt: guard,
      States: {
        [guard]: task('map-guard', local('Started'), '$.ferryLocalMap'),
        [local('Started')]: {
          Type: 'Choice',
          Choices: [{ Variable: '$.ferryLocalMap.stopped', BooleanEquals: true, Next: local('NotStarted') }],
          Default: local('Item'),
        },
        [local('NotStarted')]: { Type: 'Succeed' },
        [local('Item')]: {
          Type: 'Parallel',
          Branches: [original],
          ResultPath: null,
          Catch: [
            {
              ErrorEquals: ['States.ALL'],
              ResultPath: '$.ferryLocalError',
              Next: distributed ? local('Tolerated') : stop,
            },
          ],
          End: true,
        },
        ...(distributed
          ? {
              [local('Tolerated')]: {
                Type: 'Choice',
                Choices: [
                  { Variable: '$.ferryLocalTolerance', NumericGreaterThan: 0, Next: local('FailureTolerated') },
                ],
                Default: stop,
              },
              [local('FailureTolerated')]: { Type: 'Succeed' },
            }
          : {}),
        [stop]: task('map-stop', local('Failed'), null),
        [local('Failed')]: distributed
          ? { Type: 'Fail', Error: 'States.ExceedToleratedFailureThreshold', Cause: 'an item failed (failFast)' }
          : { Type: 'Fail', ErrorPath: '$.ferryLocalError.Error', CausePath: '$.ferryLocalError.Cause' },
      },
    };
  }

  #key(input: Json, map: string): string {
    const execution = isObject(input) && typeof input.execution === 'string' ? input.execution : '';
    return `${execution}\n${map}`;
  }
}
