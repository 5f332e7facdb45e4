/**
 * The import graph of functions/: file-level edges from the relative imports, folded into the
 * rooms of DESIGN.md's layout (oci, mirror, runs, aws, handlers, local, cli, contract). Prints
 * the room graph with edge counts and any file-level cycle; exits 1 on a cycle.
 * `node dist/scripts/import-graph.js [ROOT]` (default: the repository's functions/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ImportGraph {
  /** File (relative to the root, `.ts`) → the files it imports. */
  readonly files: ReadonlyMap<string, readonly string[]>;
  /** `from → to` room edges with how many imports cross them. */
  readonly rooms: ReadonlyMap<string, number>;
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g;

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listTs(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The room of a file: its first folder under the root, or the file's own name for top-level files. */
export function roomOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first!;
}

/** Reads every `.ts` file under `root` and resolves its relative imports to files under `root`. */
export function importGraph(root: string): ImportGraph {
  const files = new Map<string, string[]>();
  const rooms = new Map<string, number>();
  for (const path of listTs(root)) {
    const from = relative(root, path).split(sep).join('/');
    const text = readFileSync(path, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(importPattern)) {
      const spec = match[1] ?? match[2]!;
      const target = relative(root, resolve(dirname(path), spec.replace(/\.js$/, '.ts')))
        .split(sep)
        .join('/');
      if (target.startsWith('..')) continue;
      targets.push(target);
      const edge = `${roomOf(from)} → ${roomOf(target)}`;
      if (roomOf(from) !== roomOf(target)) rooms.set(edge, (rooms.get(edge) ?? 0) + 1);
    }
    files.set(from, targets);
  }
  return { files, rooms };
}

/** Strongly connected components of more than one file (or a file importing itself): import cycles. */
export function importCycles(files: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of files.get(node) ?? []) {
      if (!files.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || files.get(node)?.includes(node)) cycles.push(component.sort());
    }
  };
  for (const node of files.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../functions'));
  const { files, rooms } = importGraph(root);
  for (const [edge, count] of [...rooms].sort()) process.stdout.write(`${edge}  (${count})\n`);
  const cycles = importCycles(files);
  for (const cycle of cycles) process.stdout.write(`cycle: ${cycle.join(' ↔ ')}\n`);
  process.exitCode = cycles.length > 0 ? 1 : 0;
}
