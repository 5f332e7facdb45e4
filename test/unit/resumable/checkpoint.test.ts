import { describe, expect, it } from 'vitest';
import { type ImageCheckpoint, parseCheckpoint } from '../../../functions/mirror/blob-checkpoint.js';
import { Parking, remainingUntil } from '../../../functions/mirror/deadline.js';
import { parseDigest } from '../../../functions/oci/digest.js';

const digest = parseDigest(`sha256:${'ab'.repeat(32)}`);
const checkpoint: ImageCheckpoint = {
  version: 1,
  done: [parseDigest(`sha256:${'cd'.repeat(32)}`)],
  uploads: [
    {
      digest,
      size: 100 << 20,
      location: '/v2/mirror/app/blobs/uploads/5d1c?_state=abc',
      offset: 48 << 20,
      hash: 'jtaVowAAAA==',
      restarted: false,
    },
  ],
  blobs: { copied: 1, mounted: 0, skipped: 0 },
  bytes: 1234,
  invocations: 2,
  notes: [],
};

describe('image checkpoint (what one invocation leaves the next)', () => {
  it('round-trips through JSON, as a store keeps it', () => {
    expect(parseCheckpoint(JSON.parse(JSON.stringify(checkpoint)))).toEqual(checkpoint);
  });

  it('is not a checkpoint with a URL carrying credentials, a bad digest or hash state, or another version', () => {
    const upload = checkpoint.uploads[0]!;
    const broken = [
      {
        ...checkpoint,
        uploads: [{ ...upload, location: 'https://user:secret@registry.example/v2/x/blobs/uploads/1' }],
      },
      { ...checkpoint, uploads: [{ ...upload, digest: 'sha256:nothex' }] },
      { ...checkpoint, uploads: [{ ...upload, hash: 'not base64!' }] },
      { ...checkpoint, version: 2 },
      { ...checkpoint, bytes: -1 },
    ];
    for (const value of broken) expect(parseCheckpoint(value)).toBeUndefined();
    // Another origin's session URL (a registry that uploads elsewhere) is kept, without user-info.
    const elsewhere = { ...checkpoint, uploads: [{ ...upload, location: 'https://uploads.example/s/1?sig=x' }] };
    expect(parseCheckpoint(elsewhere)).toEqual(elsewhere);
  });
});

describe('Parking (when a blob still streaming parks)', () => {
  it('parks when less than the margin is left, the margin growing to one part at the slowest rate seen', () => {
    let remaining = 600_000;
    const parking = new Parking({ remainingMs: () => remaining, marginMs: 30_000 });
    remaining = 35_000;
    expect(parking.due(16 << 20)).toBe(false);
    // A 16 MiB part that took 40 s: the margin is now 40 s for a part of that size.
    parking.observe(16 << 20, 40_000);
    expect(parking.due(16 << 20)).toBe(true);
    expect(parking.due(8 << 20)).toBe(false);
    remaining = 29_999;
    expect(parking.due(0)).toBe(true);
  });

  it('keeps at most a third of a short invocation as its margin, so that every invocation copies something', () => {
    let remaining = 9_000;
    const parking = new Parking({ remainingMs: () => remaining });
    expect(parking.due(0)).toBe(false);
    remaining = 3_001;
    expect(parking.due(0)).toBe(false);
    remaining = 2_999;
    expect(parking.due(0)).toBe(true);
  });

  it('reads an absolute deadline on the clock it is given', () => {
    let now = 1_000;
    const remaining = remainingUntil(121_000, { now: () => now });
    expect(remaining()).toBe(120_000);
    const parking = new Parking({ remainingMs: remaining });
    now = 91_000;
    expect(parking.due(0)).toBe(false);
    now = 91_001;
    expect(parking.due(0)).toBe(true);
  });
});
