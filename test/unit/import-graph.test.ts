import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, roomOf } from '../../scripts/import-graph.js';

const functions = fileURLToPath(new URL('../../functions', import.meta.url));

/**
 * DESIGN.md's layering: each room and the rooms it may import (dependencies point inward).
 * `contract` (names shared with infra/, no imports) is the innermost room: anyone may read it.
 */
const allowed: Record<string, readonly string[]> = {
  contract: [],
  oci: ['contract'],
  mirror: ['contract', 'oci'],
  runs: ['contract', 'oci', 'mirror'],
  aws: ['contract', 'oci', 'mirror', 'runs'],
  handlers: ['contract', 'oci', 'mirror', 'runs', 'aws'],
  local: ['contract', 'oci', 'mirror', 'runs', 'aws', 'handlers'],
  cli: ['contract', 'oci', 'mirror', 'runs', 'aws', 'local'],
  types: [],
};

describe('the import graph of functions/', () => {
  const graph = importGraph(functions);

  it('reads the whole tree', () => {
    expect(graph.files.size).toBeGreaterThan(80);
    expect(graph.files.get('mirror/copy-image.ts')).toContain('oci/repository.ts');
  });

  it('has no file-level import cycle', () => {
    expect(importCycles(graph.files)).toEqual([]);
  });

  it('points inward: every cross-room import is one the layering allows', () => {
    const wrong = [...graph.rooms.keys()].filter((edge) => {
      const [from, to] = edge.split(' → ') as [string, string];
      return !(allowed[from] ?? []).includes(to);
    });
    expect(wrong).toEqual([]);
  });
});

describe('importCycles (the detector itself)', () => {
  const graph = (edges: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(edges));

  it('finds a two-file cycle and a longer one, and nothing in a DAG', () => {
    expect(importCycles(graph({ a: ['b'], b: ['a'], c: ['a'] }))).toEqual([['a', 'b']]);
    expect(importCycles(graph({ a: ['b'], b: ['c'], c: ['a'], d: [] }))).toEqual([['a', 'b', 'c']]);
    expect(importCycles(graph({ a: ['b', 'c'], b: ['c'], c: [] }))).toEqual([]);
  });

  it('counts a file importing itself', () => {
    expect(importCycles(graph({ a: ['a'] }))).toEqual([['a']]);
  });

  it('names rooms by first folder, top-level files by name', () => {
    expect(roomOf('oci/auth/credentials.ts')).toBe('oci');
    expect(roomOf('contract.ts')).toBe('contract');
  });
});
