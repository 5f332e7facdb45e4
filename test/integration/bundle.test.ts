import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

describe('the CLI bundle', () => {
  it('has no import() of anything outside it (a code-cached script has no dynamic-import callback)', () => {
    const bundle = readFileSync(join(repoRoot, 'dist', 'ferry.cjs'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    expect(bundle.match(/\bimport\(\s*["'`]/g) ?? []).toEqual([]);
    expect(bundle).toContain('require("@aws-sdk/client-ecr")');
  });
});
