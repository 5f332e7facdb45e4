import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { cleanEnv, repoRoot, runFerry } from '../support/cli.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 6);

/** Runs the CLI inside a pseudo-terminal (util-linux `script`) and returns what the terminal showed. */
function runInTerminal(args: string[]): Promise<string> {
  const command = [process.execPath, join(repoRoot, 'bin', 'ferry.js'), ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qfec', command, '/dev/null'],
      { env: { ...cleanEnv(), COLUMNS: '120', TERM: 'xterm' } },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(stdout);
      },
    );
  });
}

describe('progress on a TTY', () => {
  it('draws per-blob progress on a terminal', async () => {
    const image = buildImage({ layers: [rng.bytes(4 << 20)] });
    const name = `progress/app-${rng.int(1e9)}`;
    await push(src.url, name, 'v1', image);
    const screen = await runInTerminal(['copy', `${src.host}/${name}:v1`, `${dst.host}/${name}:v1`]);
    expect(screen).toContain('\u001b[?25l'); // the renderer took the terminal (cursor hidden while drawing)
    expect(screen).toMatch(/copied\s+.*sha256:/);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('draws nothing on a pipe: stdout is the one result line, stderr stays empty', async () => {
    const image = buildImage({ layers: [rng.bytes(4 << 20)] });
    const name = `progress/piped-${rng.int(1e9)}`;
    await push(src.url, name, 'v1', image);
    const result = await runFerry(['copy', `${src.host}/${name}:v1`, `${dst.host}/${name}:v1`]);
    expect(result.code).toBe(0);
    // No cursor control, no carriage-return redraws, no bars: a script reading the output gets the result only.
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).not.toContain('\r');
    expect(result.stdout.split('\n')).toEqual([expect.stringMatching(new RegExp(`^copied .*${image.digest}`)), '']);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });
});
