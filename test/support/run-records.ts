import type { RunOptions, RunRecord } from '../../functions/runs/model.js';

/** Run options for a fixture: anything not given is the API's default (all platforms, override, no dry run). */
export type RunOptionsInput = Partial<Omit<RunOptions, 'destination'>> & {
  destination?: Partial<RunOptions['destination']>;
};

/**
 * A run as the service writes it before its workflow starts — in progress, nothing counted yet —
 * for tests and benchmarks that put runs into a store directly.
 */
export function inProgressRun(fields: {
  runId: string;
  totalImages: number;
  startTime?: string;
  options?: RunOptionsInput;
}): RunRecord {
  const { destination, ...rest } = fields.options ?? {};
  return {
    runId: fields.runId,
    status: 'in-progress',
    startTime: fields.startTime ?? new Date().toISOString(),
    endTime: null,
    totalImages: fields.totalImages,
    imagesProcessed: 0,
    imagesFailed: 0,
    bytesCopied: 0,
    options: {
      destination: { registry: 'r.example', insecure: false, ...destination },
      sourceCredentials: {},
      platforms: [],
      referrers: false,
      override: true,
      failFast: false,
      dryRun: false,
      ...rest,
    },
  };
}
