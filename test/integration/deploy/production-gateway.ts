// The gateway as operators run it: the ahead-of-time bundle (package.json "build:gateway", esbuild) on
// plain Node, as a child process with its own YAML file. Each test file builds into its own folder under
// build/ (the same command, another --outfile) so that files running side by side never read a bundle
// another one is writing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { startProcess, type ProcessHandle } from '../../support/process.js';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** package.json's build:gateway command, writing to `outfile` (relative to the repository; the media worker's
 *  entry, media-worker.js, beside it: the command's --outdir becomes the outfile's folder). */
export function buildBundle(outfile: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['build:gateway']!;
  expect(basename(outfile)).toBe('main.js');
  const [bin, ...args] = script.split(/\s+/).map((a) => (a.startsWith('--outdir=') ? `--outdir=${dirname(outfile)}` : a));
  expect(bin).toBe('esbuild');
  execFileSync(join(ROOT, 'node_modules', '.bin', 'esbuild'), args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return join(ROOT, outfile);
}

export interface RunningGateway {
  process: ProcessHandle;
  /** The config file it runs on (rewrite it, then signal SIGHUP). */
  file: string;
  write(config: unknown): void;
  /** Log lines so far (JSON objects; other stdout lines skipped). */
  lines(): Array<Record<string, unknown> & { msg?: string; level?: string }>;
  /** Resolves when a log line with this msg (or containing it) is there, `after` lines skipped. */
  waitFor(msg: string, after?: number): Promise<Record<string, unknown>>;
}

export async function startBuiltGateway(bundle: string, config: unknown, name: string): Promise<RunningGateway> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const file = join(dir, 'gateway.yaml');
  const write = (c: unknown): void => writeFileSync(file, typeof c === 'string' ? c : stringify(c));
  write(config);
  const proc = startProcess(process.execPath, [bundle, '--config', file], { cwd: ROOT, name, tailBytes: 1 << 20 });
  const lines = (): ReturnType<RunningGateway['lines']> =>
    proc.stdout().split('\n').flatMap((l) => {
      try {
        const v = JSON.parse(l) as unknown;
        return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  const waitFor = async (msg: string, after = 0): Promise<Record<string, unknown>> => {
    let found: Record<string, unknown> | undefined;
    await expect
      .poll(() => (found = lines().slice(after).find((l) => typeof l.msg === 'string' && l.msg.includes(msg))), { timeout: 15_000, interval: 50 })
      .toBeDefined();
    return found!;
  };
  const gw = { process: proc, file, write, lines, waitFor };
  await waitFor('gateway started').catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.stderr().slice(-2000)}\n${proc.stdout().slice(-2000)}`);
  });
  return gw;
}
