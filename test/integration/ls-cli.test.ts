import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runFerry } from '../support/cli.js';
import { basicHeader } from '../support/engine.js';
import { buildImage, push, Rng, writeLayout } from '../support/fixtures.js';
import { freePort } from '../support/ports.js';
import type { Peer } from '../support/scripted-peers.js';
import { pagingFront } from './paging-front.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.

const { seed, src, basic } = inject('registries');
const rng = new Rng(seed + 91);
const repo = (name: string): string => `ls/${name}-${rng.int(1e9)}`;
const tags = ['1.0', '1.1', '2.0', 'v3.0.0', 'v3.1.0-rc.1', 'latest', 'alpine', 'edge', 'nightly', '0.9', '3', '4.0'];
const sorted = [...tags].sort();
const lines = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '');

let name: string;
let front: Peer;
beforeAll(async () => {
  name = repo('app');
  for (const tag of tags) await push(src.url, name, tag, buildImage({ layers: [rng.bytes(64)], annotations: { tag } }));
  front = await pagingFront(src.url);
});
afterAll(() => front.close());

describe('ferry ls', () => {
  it('prints every tag of a real registry repository, one a line', async () => {
    const result = await runFerry(['ls', `${src.host}/${name}`, '--insecure', src.host]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(lines(result.stdout).sort()).toEqual(sorted);
  });

  it('follows every tags/list page (n=5 over 12 tags), in the registry order', async () => {
    const result = await runFerry(['ls', `${front.host}/${name}`, '--page-size', '5']);
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)).toEqual(sorted);
    expect(front.requests.filter((r) => r.startsWith(`GET /v2/${name}/tags/list`))).toHaveLength(3);
  });

  it('prints {"repository","tags"} with --json', async () => {
    const result = await runFerry(['ls', `docker://${src.host}/${name}`, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { repository: string; tags: string[] };
    expect(Object.keys(doc)).toEqual(['repository', 'tags']);
    expect(doc.repository).toBe(`${src.host}/${name}`);
    expect([...doc.tags].sort()).toEqual(sorted);
    expect(lines(result.stdout)).toHaveLength(1);
  });

  it('lists the tags of an oci: layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-ls-layout-'));
    await writeLayout(dir, 'v7', buildImage({ layers: [rng.bytes(32)] }));
    const result = await runFerry(['ls', `oci:${dir}`, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ repository: `oci:${dir}`, tags: ['v7'] });
  });

  describe('on a registry that needs credentials', () => {
    const userPass = `${basic.username}:${basic.password}`;
    let secured: string;
    beforeAll(async () => {
      secured = repo('secured');
      const auth = basicHeader(basic.username, basic.password);
      for (const tag of ['a', 'b']) await push(basic.url, secured, tag, buildImage({ layers: [rng.bytes(16)] }), auth);
    });

    it('uses --src-creds', async () => {
      const result = await runFerry(['ls', `${basic.host}/${secured}`, '--src-creds', userPass]);
      expect(result.code, result.stderr).toBe(0);
      expect(lines(result.stdout).sort()).toEqual(['a', 'b']);
    });

    it('uses --authfile', async () => {
      const authfile = join(mkdtempSync(join(tmpdir(), 'ferry-ls-auth-')), 'auth.json');
      const encoded = Buffer.from(userPass).toString('base64');
      writeFileSync(authfile, JSON.stringify({ auths: { [basic.host]: { auth: encoded } } }), { mode: 0o600 });
      const result = await runFerry(['ls', `${basic.host}/${secured}`, '--authfile', authfile]);
      expect(result.code, result.stderr).toBe(0);
      expect(lines(result.stdout).sort()).toEqual(['a', 'b']);
    });

    it('without credentials: exit 1, one line naming registry, repository and cause', async () => {
      const result = await runFerry(['ls', `${basic.host}/${secured}`], cleanEnv());
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const stderr = lines(result.stderr);
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toContain(`${basic.host}/${secured}`);
      expect(stderr[0]).toMatch(/credentials|denied/i);
    });
  });

  it('names registry and repository when the registry cannot be reached (exit 1)', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const result = await runFerry(['ls', `${host}/nobody/here`]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`${host}/nobody/here`);
  });

  it.each([
    [['ls']],
    [['ls', `${'127.0.0.1:5000'}/app:v1`]],
    [['ls', `${'127.0.0.1:5000'}/app@sha256:${'a'.repeat(64)}`]],
    [['ls', 'Not A Reference']],
    [['ls', 'oci:/tmp/x:v1']],
    [['ls', '127.0.0.1:5000/app', '--page-size', '0']],
  ])('is a usage error (exit 2): %j', async (args) => {
    const result = await runFerry(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
  });
});
