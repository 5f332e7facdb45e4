import { describe, expect, it } from 'vitest';
import { formatIdms, formatItms } from '../../../functions/mirror/workspace/cluster-resources.js';
import { parseDeletePlan } from '../../../functions/mirror/workspace/delete-plan.js';
import { formatMapping } from '../../../functions/mirror/workspace/mapping.js';
import { formatMirroringErrors } from '../../../functions/mirror/workspace/mirroring-errors.js';
import { buildPlan, formatPlan } from '../../../functions/mirror/workspace/plan.js';
import { writeDeletePlan, writeWorkspace } from '../../../functions/mirror/workspace/workspace.js';
import { type Digest, parseDigest } from '../../../functions/oci/digest.js';
import { ErrorNames } from '../../../functions/oci/errors.js';
import { byDigest, byTag, d1, d2, target } from './fixtures.js';
import { MemoryFs } from './memory-fs.js';

const dir = '/ws';
const entries = [
  byTag('docker.io/library/nginx', '1.27.1'),
  byDigest('quay.io/org/app', d1),
  byTag('docker.io/library/busybox', '1.36', { blocked: true }),
  byTag('docker.io/library/redis', '7.4', { error: 'manifest unknown' }),
];
const tagOnly = [byTag('docker.io/library/nginx', '1.27.1')];

describe('writeWorkspace', () => {
  it('writes mapping, both mirror sets and the errors of a run, as the formatters give them', async () => {
    const fs = new MemoryFs();
    const result = await writeWorkspace(dir, { entries }, fs);
    expect(fs.paths()).toEqual([
      '/ws/cluster-resources/idms-oc-mirror.yaml',
      '/ws/cluster-resources/itms-oc-mirror.yaml',
      '/ws/mapping.txt',
      '/ws/mirroring_errors.txt',
    ]);
    expect(fs.files.get('/ws/mapping.txt')).toBe(formatMapping(entries));
    expect(fs.files.get('/ws/cluster-resources/idms-oc-mirror.yaml')).toBe(formatIdms(entries));
    expect(fs.files.get('/ws/cluster-resources/itms-oc-mirror.yaml')).toBe(formatItms(entries));
    expect(fs.files.get('/ws/mirroring_errors.txt')).toBe(formatMirroringErrors(entries));
    expect(result).toEqual({
      written: [
        'mapping.txt',
        'cluster-resources/idms-oc-mirror.yaml',
        'cluster-resources/itms-oc-mirror.yaml',
        'mirroring_errors.txt',
      ],
      removed: [],
    });
  });

  it('writes no IDMS when nothing went by digest, and no errors file when nothing failed', async () => {
    const fs = new MemoryFs();
    const result = await writeWorkspace(dir, { entries: tagOnly }, fs);
    expect(fs.paths()).toEqual(['/ws/cluster-resources/itms-oc-mirror.yaml', '/ws/mapping.txt']);
    expect(result.removed).toEqual(['cluster-resources/idms-oc-mirror.yaml', 'mirroring_errors.txt']);
  });

  it('removes the mirror set and error list an earlier run left, so that none is applied or read stale', async () => {
    const fs = new MemoryFs();
    await writeWorkspace(dir, { entries }, fs);
    await writeWorkspace(dir, { entries: [byDigest('quay.io/org/app', d1)] }, fs);
    expect(fs.paths()).toEqual(['/ws/cluster-resources/idms-oc-mirror.yaml', '/ws/mapping.txt']);
  });

  it('lists failures of no image in mirroring_errors.txt', async () => {
    const fs = new MemoryFs();
    await writeWorkspace(
      dir,
      { entries: tagOnly, errors: [{ reference: 'quay.io/org/gone', cause: 'tags/list: 404' }] },
      fs,
    );
    expect(fs.files.get('/ws/mirroring_errors.txt')).toBe(
      'error mirroring image quay.io/org/gone error: tags/list: 404\n',
    );
  });

  it('writes a dry run into dry-run/ only, leaving the last real run’s files as they were', async () => {
    const fs = new MemoryFs();
    await writeWorkspace(dir, { entries: tagOnly }, fs);
    const before = new Map(fs.files);
    const plan = buildPlan([
      { source: 'quay.io/org/app:v1', destination: `${target}/org/app:v1`, digest: d2, action: 'copy', bytes: 5 },
    ]);
    const result = await writeWorkspace(dir, { entries, dryRun: true, plan }, fs);
    expect(result).toEqual({ written: ['dry-run/mapping.txt', 'dry-run/plan.json'], removed: [] });
    expect(fs.files.get('/ws/dry-run/mapping.txt')).toBe(formatMapping(entries));
    expect(fs.files.get('/ws/dry-run/plan.json')).toBe(formatPlan(plan));
    for (const [path, content] of before) expect(fs.files.get(path)).toBe(content);
    expect(fs.paths()).toHaveLength(before.size + 2);
  });

  it('writes every file to a temporary name beside it and renames it over the target', async () => {
    const fs = new MemoryFs();
    await writeWorkspace(dir, { entries: tagOnly }, fs);
    const writes = fs.calls.filter((c) => c.startsWith('writeFile') || c.startsWith('rename'));
    expect(writes).toHaveLength(4);
    for (const [write, rename] of [writes.slice(0, 2), writes.slice(2, 4)]) {
      const temporary = write!.slice('writeFile '.length);
      const [from, to] = rename!.slice('rename '.length).split(' -> ');
      expect(from).toBe(temporary);
      expect(temporary).toMatch(new RegExp(`^${to!.replace(/[.]/g, '\\.')}\\.[0-9a-f]{12}\\.tmp$`));
    }
    expect(fs.paths().filter((p) => p.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['the write', 'writeFile' as const],
    ['the rename', 'rename' as const],
  ])('fails with LocalPathError when %s fails, keeping the old file and no temporary one', async (_what, op) => {
    const fs = new MemoryFs();
    await writeWorkspace(dir, { entries: tagOnly }, fs);
    const old = fs.files.get('/ws/mapping.txt');
    fs.failOn = { op, suffix: '.tmp', code: 'ENOSPC' };
    const failure = writeWorkspace(dir, { entries }, fs);
    await expect(failure).rejects.toMatchObject({ name: ErrorNames.localPath, code: 'LOCAL_PATH', retryable: false });
    await expect(failure).rejects.toThrow('/ws/mapping.txt');
    expect(fs.files.get('/ws/mapping.txt')).toBe(old);
    expect(fs.paths().filter((p) => p.endsWith('.tmp'))).toEqual([]);
  });

  it('fails with LocalPathError when a stale file cannot be removed', async () => {
    const fs = new MemoryFs();
    fs.failOn = { op: 'remove', suffix: 'idms-oc-mirror.yaml', code: 'EACCES' };
    await expect(writeWorkspace(dir, { entries: tagOnly }, fs)).rejects.toMatchObject({ name: ErrorNames.localPath });
  });
});

describe('writeDeletePlan', () => {
  it('writes delete/delete-images.yaml atomically; it parses back to the plan', async () => {
    const fs = new MemoryFs();
    const items = [
      {
        source: 'docker.io/library/nginx:1.25.0',
        destination: `${target}/library/nginx:1.25.0`,
        digest: parseDigest(d1) as Digest,
      },
    ];
    expect(await writeDeletePlan(dir, items, fs)).toBe('delete/delete-images.yaml');
    expect(fs.paths()).toEqual(['/ws/delete/delete-images.yaml']);
    expect(fs.calls[0]).toBe('mkdir /ws/delete');
    expect(parseDeletePlan(fs.files.get('/ws/delete/delete-images.yaml')!, { within: target })).toEqual(items);
  });
});

describe('writeWorkspace: catalog cluster resources', () => {
  it('writes each cs-/cc- file beside the mirror sets, byte for byte', async () => {
    const fs = new MemoryFs();
    const files = [
      { name: 'cs-index-v1.yaml', yaml: 'kind: CatalogSource\n' },
      { name: 'cc-index-v1.yaml', yaml: 'kind: ClusterCatalog\n' },
    ];
    const result = await writeWorkspace(dir, { entries: tagOnly, clusterResources: files }, fs);
    expect(fs.files.get('/ws/cluster-resources/cs-index-v1.yaml')).toBe('kind: CatalogSource\n');
    expect(fs.files.get('/ws/cluster-resources/cc-index-v1.yaml')).toBe('kind: ClusterCatalog\n');
    expect(result.written.slice(-2)).toEqual([
      'cluster-resources/cs-index-v1.yaml',
      'cluster-resources/cc-index-v1.yaml',
    ]);
  });

  it("removes an earlier run's cs-/cc- files and signature ConfigMaps that this run has not, and nothing else", async () => {
    const fs = new MemoryFs();
    await writeWorkspace(
      dir,
      {
        entries: tagOnly,
        clusterResources: [
          { name: 'cs-old-v1.yaml', yaml: 'old' },
          { name: 'cc-old-v1.yaml', yaml: 'old' },
          { name: 'cs-index-v1.yaml', yaml: 'v1' },
        ],
        releaseSignatures: [{ name: 'sha256-aaaa-1.yaml', content: 'sig' }],
      },
      fs,
    );
    await fs.mkdir('/ws/cluster-resources');
    fs.files.set('/ws/cluster-resources/my-notes.yaml', 'a file of the user');

    const result = await writeWorkspace(
      dir,
      { entries: tagOnly, clusterResources: [{ name: 'cs-index-v1.yaml', yaml: 'v2' }] },
      fs,
    );

    expect(fs.paths().filter((p) => p.includes('cluster-resources/') || p.includes('release-signatures/'))).toEqual([
      '/ws/cluster-resources/cs-index-v1.yaml',
      '/ws/cluster-resources/itms-oc-mirror.yaml',
      '/ws/cluster-resources/my-notes.yaml',
    ]);
    expect(result.removed).toEqual(
      expect.arrayContaining([
        'cluster-resources/cs-old-v1.yaml',
        'cluster-resources/cc-old-v1.yaml',
        'release-signatures/sha256-aaaa-1.yaml',
      ]),
    );
  });

  it('refuses a name that is not one plain path component, writing nothing of it', async () => {
    const fs = new MemoryFs();
    const err = await writeWorkspace(
      dir,
      { entries: tagOnly, clusterResources: [{ name: '../escape.yaml', yaml: 'x' }] },
      fs,
    ).catch((e: unknown) => e);
    expect((err as Error).name).toBe(ErrorNames.localPath);
    expect(fs.paths().some((p) => p.includes('escape'))).toBe(false);
  });
});
