import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, repoRoot, runFerry, skopeoDigest } from '../support/cli.js';
import { buildImage, buildIndex, push, Rng, sha256 } from '../support/fixtures.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';

// issue 12, "Verbs registry users expect": inspect, digest, manifest, catalog, tag, delete,
// login and completion against real docker-registry processes. `npm run build` first.

const { seed, src, basic } = inject('registries');
const rng = new Rng(seed + 1213);
const ns = `verbs${rng.int(1e9)}`;
const insecure = (host: string): string[] => ['--insecure', host];

const amd64 = buildImage({
  layers: [rng.bytes(300), rng.bytes(200)],
  config: Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-02T03:04:05Z',
      config: { Labels: { 'org.opencontainers.image.title': 'app' }, Env: ['PATH=/usr/bin'] },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  ),
});
const arm64 = buildImage({ layers: [rng.bytes(100)], platform: { os: 'linux', architecture: 'arm64' } });
const index = buildIndex([
  { image: amd64, platform: { os: 'linux', architecture: 'amd64' } },
  { image: arm64, platform: { os: 'linux', architecture: 'arm64' } },
]);

let own: RunningRegistry;
beforeAll(async () => {
  await push(src.url, `${ns}/app`, '1.0', index);
  await push(src.url, `${ns}/app`, '0.9', amd64);
  own = await startRegistry();
  for (const name of ['a/one', 'b/two', 'c/three'])
    await push(own.url, name, 'v1', buildImage({ layers: [rng.bytes(16)] }));
}, 60_000);
afterAll(() => own?.stop());

describe('ferry inspect, digest, manifest', () => {
  it("inspect --json gives skopeo inspect's fields for the amd64 image of an index, with the index's digest", async () => {
    const result = await runFerry([
      'inspect',
      `${src.host}/${ns}/app:1.0`,
      '--platform',
      'linux/amd64',
      '--json',
      ...insecure(src.host),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual([
      'Name',
      'Digest',
      'RepoTags',
      'Created',
      'DockerVersion',
      'Labels',
      'Architecture',
      'Os',
      'Layers',
      'LayersData',
      'Env',
    ]);
    const manifest = JSON.parse(amd64.bytes.toString()) as {
      layers: { digest: string; size: number; mediaType: string }[];
    };
    expect(doc).toEqual({
      Name: `${src.host}/${ns}/app`,
      Digest: index.digest,
      RepoTags: ['0.9', '1.0'],
      Created: '2026-01-02T03:04:05Z',
      DockerVersion: '',
      Labels: { 'org.opencontainers.image.title': 'app' },
      Architecture: 'amd64',
      Os: 'linux',
      Layers: manifest.layers.map((l) => l.digest),
      LayersData: manifest.layers.map((l) => ({
        MIMEType: l.mediaType,
        Digest: l.digest,
        Size: l.size,
        Annotations: null,
      })),
      Env: ['PATH=/usr/bin'],
    });
  });

  it('inspect prints a summary; --raw the exact manifest; --config the config', async () => {
    const summary = await runFerry([
      'inspect',
      `${src.host}/${ns}/app:1.0`,
      '--platform',
      'linux/amd64',
      '--no-tags',
      ...insecure(src.host),
    ]);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toContain(`Digest:       ${index.digest}`);
    expect(summary.stdout).toContain('Platforms:    linux/amd64, linux/arm64');
    expect(summary.stdout).toContain(`Image:        ${amd64.digest}`);
    expect(summary.stdout).not.toContain('Tags:');
    const raw = await runFerry(['inspect', '--raw', `${src.host}/${ns}/app:1.0`, ...insecure(src.host)]);
    expect(Buffer.from(raw.stdout)).toEqual(index.bytes);
    const config = await runFerry(['inspect', '--config', '--raw', `${src.host}/${ns}/app:0.9`, ...insecure(src.host)]);
    expect(sha256(Buffer.from(config.stdout))).toBe(
      (JSON.parse(amd64.bytes.toString()) as { config: { digest: string } }).config.digest,
    );
  });

  it('digest prints what skopeo reads; manifest the exact bytes', async () => {
    const digest = await runFerry(['digest', `${src.host}/${ns}/app:1.0`, ...insecure(src.host)]);
    expect(digest.stdout).toBe(`${index.digest}\n`);
    expect(await skopeoDigest(`${src.host}/${ns}/app:1.0`)).toBe(index.digest);
    const manifest = await runFerry(['manifest', `${src.host}/${ns}/app@${amd64.digest}`, ...insecure(src.host)]);
    expect(Buffer.from(manifest.stdout)).toEqual(amd64.bytes);
  });
});

describe('ferry catalog, tag, delete', () => {
  it('catalog lists every repository through every page', async () => {
    const result = await runFerry(['catalog', own.host, '--page-size', '2', '--json', ...insecure(own.host)]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ registry: own.host, repositories: ['a/one', 'b/two', 'c/three'] });
    const lines = await runFerry(['catalog', own.host, ...insecure(own.host)]);
    expect(lines.stdout).toBe('a/one\nb/two\nc/three\n');
  });

  it('tag adds a tag to the same manifest; delete removes the manifest by digest and says so', async () => {
    const repository = `${ns}/tagged`;
    const image = buildImage({ layers: [rng.bytes(64)] });
    await push(src.url, repository, '1.0.3', image);
    const tagged = await runFerry(['tag', `${src.host}/${repository}:1.0.3`, '1.0', ...insecure(src.host)]);
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(await skopeoDigest(`${src.host}/${repository}:1.0`)).toBe(image.digest);

    const deleted = await runFerry(['delete', `${src.host}/${repository}:1.0`, ...insecure(src.host)]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(
      `deleted ${src.host}/${repository}@${image.digest} (was 1.0): the manifest and every tag on it\n`,
    );
    const gone = await fetch(`${src.url}/v2/${repository}/manifests/${image.digest}`, { method: 'HEAD' });
    expect(gone.status).toBe(404);
    const again = await runFerry(['delete', `${src.host}/${repository}@${image.digest}`, ...insecure(src.host)]);
    expect(again.code).toBe(1);
    expect(again.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});

describe('ferry login', () => {
  it('checks the credentials, then writes them to the auth file a later command reads; wrong ones write nothing', async () => {
    const env = cleanEnv();
    const authfile = join(mkdtempSync(join(tmpdir(), 'ferry-login-')), 'auth.json');
    writeFileSync(
      authfile,
      JSON.stringify({
        auths: { 'other.example': { auth: 'b3RoZXI6c2VjcmV0' } },
        credHelpers: { 'x.example': 'pass' },
      }),
    );
    const before = readFileSync(authfile, 'utf8');
    const wrong = await loginWith(env, authfile, 'not-the-password');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(readFileSync(authfile, 'utf8')).toBe(before);

    const right = await loginWith(env, authfile, basic.password);
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toBe('Login Succeeded!\n');
    const file = JSON.parse(readFileSync(authfile, 'utf8')) as {
      auths: Record<string, { auth: string }>;
      credHelpers: object;
    };
    expect(file.auths[basic.host]).toEqual({
      auth: Buffer.from(`${basic.username}:${basic.password}`).toString('base64'),
    });
    expect(file.auths['other.example']).toEqual({ auth: 'b3RoZXI6c2VjcmV0' });
    expect(file.credHelpers).toEqual({ 'x.example': 'pass' });

    await push(
      basic.url,
      `${ns}/private`,
      'v1',
      buildImage({ layers: [rng.bytes(8)] }),
      async () => `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`,
    );
    const ls = await runFerry(
      ['ls', `${basic.host}/${ns}/private`, '--authfile', authfile, ...insecure(basic.host)],
      env,
    );
    expect([ls.code, ls.stdout]).toEqual([0, 'v1\n']);
  });

  it('writes to $XDG_RUNTIME_DIR/containers/auth.json by default, mode 0600', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'ferry-xdg-'));
    const env = cleanEnv({ XDG_RUNTIME_DIR: runtime });
    const result = await loginWith(env, undefined, basic.password);
    expect(result.code, result.stderr).toBe(0);
    const path = join(runtime, 'containers', 'auth.json');
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

function loginWith(env: NodeJS.ProcessEnv, authfile: string | undefined, password: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const args = [
      join(repoRoot, 'bin', 'ferry.js'),
      'login',
      basic.host,
      '-u',
      basic.username,
      '--password-stdin',
      ...insecure(basic.host),
      ...(authfile ? ['--authfile', authfile] : []),
    ];
    const child = execFile(process.execPath, args, { env }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(`${password}\n`);
  });
}

describe('ferry completion', () => {
  it("bash completes commands and a command's options", async () => {
    const script = await runFerry(['completion', 'bash']);
    expect(script.code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-completion-'));
    writeFileSync(join(dir, 'ferry.bash'), script.stdout);
    const run = async (words: string[]): Promise<string[]> => {
      const { stdout } = await promisify(execFile)('bash', [
        '-c',
        `source ${join(dir, 'ferry.bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ferry; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ]);
      return stdout.split('\n').filter((l) => l !== '');
    };
    expect(await run(['ferry', 'di'])).toEqual(['discover', 'digest']);
    expect(await run(['ferry', 'pull', '--allow'])).toEqual(['--allow-path-traversal']);
    const fish = await runFerry(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c ferry -n '__fish_seen_subcommand_from push' -l artifact-type");
    const zsh = await runFerry(['completion', 'zsh']);
    expect(zsh.stdout.startsWith('#compdef ferry\n')).toBe(true);
    const bad = await runFerry(['completion', 'powershell']);
    expect([bad.code, bad.stderr]).toEqual([2, 'ferry: completion: powershell: give bash, zsh or fish\n']);
  });
});
