import { spawn } from 'node:child_process';
import { serve } from '../functions/local/serve.js';
import { buildImage, push, Rng } from '../test/support/fixtures.js';
import type { RunningRegistry } from '../test/support/registry-process.js';

export interface OrchestrationResult {
  images: number;
  mirrorSeconds: number;
  serviceSeconds: number;
  /** Median wall time of one copy-image task inside the service run. */
  copyTaskMs: number;
}

/**
 * Scenario (e): 200 tiny images, copied once by one `ferry mirror` process and once as a run of
 * the local service (`ferry serve`: API → dynalite → synthesized state machine → copy tasks).
 * The difference per image is what orchestration costs.
 */
export async function measureOrchestration(
  src: RunningRegistry,
  dst: RunningRegistry,
  ferry: string,
  count = 200,
): Promise<OrchestrationResult> {
  const rng = new Rng(42);
  const refs: string[] = [];
  for (let i = 0; i < count; i++) {
    await push(src.url, `tiny/app${i}`, '1.0', buildImage({ layers: [rng.bytes(2048)] }));
    refs.push(`${src.host}/tiny/app${i}:1.0`);
  }
  const mirrorStart = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    spawn(
      process.execPath,
      [ferry, 'mirror', '--json', '--concurrency', '10', '--to', `${dst.host}/by-mirror`, ...refs],
      { stdio: 'ignore' },
    ).on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ferry mirror exited ${code}`))));
  });
  const mirrorSeconds = Number(process.hrtime.bigint() - mirrorStart) / 1e9;

  const server = await serve({ port: 0 });
  try {
    const serviceStart = process.hrtime.bigint();
    const started = (await (
      await fetch(`${server.url}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ images: refs, destination: { registry: dst.host, prefix: 'by-service' } }),
      })
    ).json()) as { runId: string };
    let run: { status: string; images: Record<string, { startTime?: string; endTime?: string }> };
    for (;;) {
      run = (await (await fetch(`${server.url}/v1/runs/${started.runId}`)).json()) as typeof run;
      if (run.status !== 'in-progress') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const serviceSeconds = Number(process.hrtime.bigint() - serviceStart) / 1e9;
    if (run.status !== 'completed') throw new Error(`service run ended ${run.status}`);
    const durations = Object.values(run.images)
      .map((i) => Date.parse(i.endTime!) - Date.parse(i.startTime!))
      .sort((a, b) => a - b);
    return { images: count, mirrorSeconds, serviceSeconds, copyTaskMs: durations[Math.floor(durations.length / 2)]! };
  } finally {
    await server.close();
  }
}
