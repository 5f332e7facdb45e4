import type { WorkspaceFs } from '../../../functions/mirror/workspace/workspace.js';

/** The workspace file port in memory: files, directories, a call log, and one scripted failure. */
export class MemoryFs implements WorkspaceFs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  readonly calls: string[] = [];
  /** Fail the next call of this operation whose path ends so. */
  failOn?: { op: 'mkdir' | 'writeFile' | 'rename' | 'remove'; suffix: string; code: string };

  async mkdir(path: string): Promise<void> {
    this.#log('mkdir', path);
    for (let p = path; p !== '' && p !== '/' && p !== '.'; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      this.dirs.add(p);
    }
  }
  async writeFile(path: string, data: string): Promise<void> {
    this.#log('writeFile', path);
    this.#parentExists(path);
    this.files.set(path, data);
  }
  async rename(from: string, to: string): Promise<void> {
    this.#log('rename', from, to);
    const data = this.files.get(from);
    if (data === undefined) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
    this.#parentExists(to);
    this.files.delete(from);
    this.files.set(to, data);
  }
  async remove(path: string): Promise<void> {
    this.#log('remove', path);
    this.files.delete(path);
  }

  async list(path: string): Promise<string[]> {
    const prefix = `${path}/`;
    return [...this.files.keys()]
      .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length));
  }

  /** Paths of the files, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  #log(op: 'mkdir' | 'writeFile' | 'rename' | 'remove', ...paths: string[]): void {
    this.calls.push(`${op} ${paths.join(' -> ')}`);
    const fail = this.failOn;
    if (fail?.op === op && paths[0]!.endsWith(fail.suffix)) {
      this.failOn = undefined;
      throw Object.assign(new Error(`${fail.code}: ${op} ${paths[0]}`), { code: fail.code });
    }
  }
  #parentExists(path: string): void {
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (!this.dirs.has(parent)) throw Object.assign(new Error(`ENOENT: ${parent}`), { code: 'ENOENT' });
  }
}
