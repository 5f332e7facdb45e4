import { describe, expect, it } from 'vitest';
import type { ParkedUpload } from '../../../functions/mirror/blob-checkpoint.js';
import { CopyTally } from '../../../functions/mirror/copy-outcome.js';
import { ImageParking } from '../../../functions/mirror/image-parking.js';
import type { CopyResult } from '../../../functions/mirror/copy-outcome.js';
import { parseDigest } from '../../../functions/oci/digest.js';

const d = (c: string) => parseDigest(`sha256:${c.repeat(64)}`);
const blob = (c: string, size: number) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d(c), size });
const upload = (c: string, offset: number): ParkedUpload => ({
  digest: d(c),
  size: 100 << 20,
  location: `/v2/app/blobs/uploads/${c}?_state=x`,
  offset,
  hash: 'AAAA',
  restarted: false,
});
const far = { deadline: { remainingMs: () => 3_600_000 } };

describe('ImageParking (one image copy across invocations)', () => {
  it('checkpoints every blob parked at once, the blobs done, and the tallies; counts each blob once over invocations', () => {
    const first = new ImageParking(far);
    const tally = new CopyTally();
    for (const [b, o] of [
      [blob('a', 100 << 20), { kind: 'parked', bytes: 16 << 20, upload: upload('a', 16 << 20) }],
      [blob('b', 100 << 20), { kind: 'parked', bytes: 24 << 20, upload: upload('b', 24 << 20) }],
      [blob('c', 10), { kind: 'copied', bytes: 10 }],
      [blob('e', 5), { kind: 'parked', bytes: 0 }],
    ] as const) {
      if (first.settle(b, o)) tally.add(o);
    }
    expect(first.parked).toBe(true);
    const checkpoint = first.checkpoint(tally);
    expect(checkpoint).toMatchObject({
      done: [d('c')],
      uploads: [upload('a', 16 << 20), upload('b', 24 << 20)],
      blobs: { copied: 1, mounted: 0, skipped: 0 },
      bytes: (40 << 20) + 10,
      invocations: 1,
    });

    const second = new ImageParking({ ...far, checkpoint });
    expect(second.parkedUpload(d('a'))?.offset).toBe(16 << 20);
    expect(second.parkedUpload(d('b'))?.offset).toBe(24 << 20);
    const again = new CopyTally();
    for (const [b, o] of [
      [blob('a', 100 << 20), { kind: 'copied', bytes: 84 << 20 }],
      [blob('b', 100 << 20), { kind: 'copied', bytes: 76 << 20, note: 'lost; restarted' }],
      [blob('c', 10), { kind: 'skipped', bytes: 0 }],
      [blob('e', 5), { kind: 'copied', bytes: 5 }],
    ] as const) {
      if (second.settle(b, o)) again.add(o);
    }
    expect(second.parked).toBe(false);
    const result = second.finish({ status: 'copied', blobs: again.blobs, bytes: again.bytes } as CopyResult, again);
    expect(result.blobs).toEqual({ copied: 4, mounted: 0, skipped: 0 });
    expect(result.bytes).toBe((200 << 20) + 15);
    expect(result.resumed).toEqual({ invocations: 2, notes: ['lost; restarted'] });
  });

  it('leaves a result that never parked as it is', () => {
    const parking = new ImageParking(far);
    const tally = new CopyTally();
    const result = { status: 'copied', blobs: tally.blobs, bytes: 0 } as CopyResult;
    expect(parking.finish(result, tally)).toBe(result);
  });
});
