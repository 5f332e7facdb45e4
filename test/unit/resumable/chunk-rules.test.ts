import { describe, expect, it } from 'vitest';
import {
  chunkRulesFor,
  chunkSizeWithin,
  defaultChunkRules,
  defaultChunkSize,
  ecrChunkRules,
} from '../../../functions/oci/chunk-rules.js';

const MiB = 1024 * 1024;

describe('chunk planner (part sizes within each registry rules)', () => {
  it('gives ECR hosts parts of 5 to 20 MiB (LayerPartTooSmallException below 5 MiB, UploadLayerPart max 20,971,520 bytes)', () => {
    const ecr = chunkRulesFor('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    expect(ecr).toEqual(ecrChunkRules);
    expect(chunkSizeWithin(ecr, 1 * MiB)).toBe(5 * MiB);
    expect(chunkSizeWithin(ecr, 64 * MiB)).toBe(20_971_520);
    expect(chunkSizeWithin(ecr)).toBe(defaultChunkSize);
    expect(defaultChunkSize).toBeGreaterThanOrEqual(ecr.minPart);
    expect(defaultChunkSize).toBeLessThanOrEqual(ecr.maxPart);
    // FIPS and China partition endpoints are ECR too.
    expect(chunkRulesFor('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com')).toEqual(ecrChunkRules);
    expect(chunkRulesFor('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')).toEqual(ecrChunkRules);
  });

  it('leaves other registries any part size, capped so that one part fits in memory', () => {
    const other = chunkRulesFor('127.0.0.1:5000');
    expect(other).toEqual(defaultChunkRules);
    expect(chunkSizeWithin(other, 1 * MiB)).toBe(1 * MiB);
    expect(chunkSizeWithin(other, 1024 * MiB)).toBe(256 * MiB);
    expect(chunkSizeWithin(other, 1.5)).toBe(1);
  });
});
