import { route } from '../../../functions/handlers/api/router.js';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { silentLogger } from '../../../functions/oci/log.js';
import type { ImageRecord, RunRecord } from '../../../functions/runs/model.js';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { RunService } from '../../../functions/runs/service.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';
import { inProgressRun } from '../../support/run-records.js';

// Crafted run and image records for the run-output tests (/idms, /itms, /errors, /plan), and the
// API router over a memory store that serves them.

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
export const [dA, dB, dC, dD, dE] = ['a', 'b', 'c', 'd', 'e'].map(digest) as [string, string, string, string, string];
/** The destination `REGISTRY/PREFIX` of every crafted run. */
export const to = 'reg.example/mirror';

/** An image record's fields; the destination follows the pinned naming under {@link to}. */
export type ImageFields = Omit<ImageRecord, 'runId' | 'index' | 'destination'> & { destination?: string };

/** A run with these images (destination: the pinned naming under `to`), stored as the tasks leave it. */
export async function putRun(
  store: MemoryRunStore,
  runId: string,
  images: readonly ImageFields[],
  fields: { status?: RunRecord['status']; dryRun?: boolean } = {},
): Promise<void> {
  const status = fields.status ?? 'completed';
  const run: RunRecord = {
    ...inProgressRun({ runId, totalImages: images.length, options: { dryRun: fields.dryRun ?? false } }),
    status,
    endTime: status === 'in-progress' ? null : '2026-01-01T00:01:00.000Z',
  };
  await store.createRun(
    run,
    images.map((image, index) => ({
      runId,
      index,
      destination: `${to}/${image.source.replace(/^[^/]+\//, '')}`,
      ...image,
    })),
  );
}

/** A real run's images: copied, up to date, failed and blocked, by tag and by digest. */
export const mixed: ImageFields[] = [
  { source: 'quay.io/org/app:1.0', status: 'completed', digest: dA, bytes: 10 },
  { source: 'quay.io/org/app:1.1', status: 'skipped', digest: dB, message: 'destination is up to date' },
  { source: `quay.io/org/app@${dB}`, status: 'completed', digest: dB },
  { source: `docker.io/library/busybox@${dC}`, status: 'skipped', digest: dC },
  { source: 'docker.io/library/busybox:1.36', status: 'completed', digest: dC },
  { source: 'docker.io/library/nginx:1.27', status: 'failed', message: 'manifest unknown' },
  { source: 'docker.io/library/redis:7', status: 'skipped', message: 'blocked', blocked: true },
  { source: `ghcr.io/x/y@${dD}`, status: 'skipped', message: 'blocked', blocked: true },
  { source: 'registry.k8s.io/pause:3.10', status: 'failed', message: 'line one\nline two' },
  { source: `docker.io/library/alpine@${dE}`, status: 'failed', message: 'unauthorized' },
];

/** The router with run outputs over a memory store; `call` answers status, content type and body. */
export function setup() {
  const store = new MemoryRunStore();
  const outputs = new RunOutputs(store);
  const service = new RunService({
    store,
    vault: new MemoryVault(),
    workflow: { start: async () => 'x', stop: async () => undefined },
  });
  const call = async (path: string, method = 'GET', withOutputs = true) => {
    const res = await route(
      { httpMethod: method, path },
      service,
      silentLogger,
      undefined,
      withOutputs ? outputs : undefined,
    );
    return { status: res.statusCode, type: res.headers['content-type'], body: res.body };
  };
  return { store, outputs, call };
}

/** A dry run's images as assessImage records them, blocked and failed ones among them. */
export const dryImages: ImageFields[] = [
  {
    source: 'quay.io/org/app:1.0',
    status: 'skipped',
    digest: dA,
    bytes: 3000,
    dryRun: { action: 'copy', blobs: 3, bytes: 3000, mount: 1, mountBytes: 1000, present: 2, manifestGets: 1 },
  },
  {
    source: `quay.io/org/app@${dB}`,
    status: 'skipped',
    digest: dB,
    bytes: 0,
    dryRun: { action: 'skip', blobs: 0, bytes: 0, mount: 0, mountBytes: 0, present: 4, manifestGets: 0 },
  },
  { source: 'docker.io/library/redis:7', status: 'skipped', message: 'blocked', blocked: true },
  { source: 'docker.io/library/nginx:1.27', status: 'failed', message: 'manifest unknown' },
  // Written before the plan's counts were recorded: they read as zero.
  {
    source: 'docker.io/library/busybox:1.36',
    status: 'skipped',
    digest: dC,
    dryRun: { action: 'copy', blobs: 2, bytes: 500 },
  },
  {
    source: `ghcr.io/x/y@${dD}`,
    status: 'skipped',
    digest: dD,
    dryRun: { action: 'copy', blobs: 2, bytes: 700, mount: 2, mountBytes: 700, present: 0, manifestGets: 2 },
  },
];
