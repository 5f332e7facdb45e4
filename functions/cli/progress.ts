import cliProgress from 'cli-progress';
import type { BlobProgress } from '../mirror/blob-copier.js';
import type { Descriptor } from '../oci/manifest.js';

/** Per-blob progress bars (bytes and rate) on a TTY. */
export function createProgress(stream: NodeJS.WriteStream): { progress: BlobProgress; stop(): void } {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: true,
      hideCursor: true,
      fps: 8,
      format: ' {digest} [{bar}] {percentage}% {done}/{size} {rate}',
    },
    cliProgress.Presets.shades_classic,
  );
  const active = new Map<string, { bar: cliProgress.SingleBar; started: number }>();
  const progress: BlobProgress = {
    onStart(descriptor: Descriptor) {
      const bar = bars.create(descriptor.size, 0, {
        digest: descriptor.digest.slice(7, 19),
        done: mib(0),
        size: mib(descriptor.size),
        rate: '',
      });
      active.set(descriptor.digest, { bar, started: Date.now() });
    },
    onBytes(descriptor: Descriptor, done: number) {
      const entry = active.get(descriptor.digest);
      if (!entry) return;
      const seconds = Math.max(0.001, (Date.now() - entry.started) / 1000);
      entry.bar.update(done, { done: mib(done), rate: `${(done / 1048576 / seconds).toFixed(1)} MiB/s` });
    },
    onEnd(descriptor: Descriptor) {
      const entry = active.get(descriptor.digest);
      if (!entry) return;
      bars.remove(entry.bar);
      active.delete(descriptor.digest);
    },
  };
  return { progress, stop: () => bars.stop() };
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
