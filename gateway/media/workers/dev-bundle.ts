// The worker entry bundled on the fly when the gateway runs from its TypeScript sources (tests, tsx): a worker
// thread does not inherit the tsx loader, and loading the engine's modules through tsx in every worker costs
// ≈ 0.9 s per start here; esbuild (a dev dependency, what npm run build:gateway uses) bundles it in ≈ 0.13 s
// once per process, and a worker starts from the bundle in ≈ 0.1 s. The bundle is written under
// node_modules/.cache (its bare imports resolve from there), named by its content.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let built: Promise<URL> | undefined;

/** The bundle of `entry` (a .ts file URL), built once per process. */
export function devBundle(entry: URL): Promise<URL> {
  built ??= build(entry);
  return built;
}

async function build(entry: URL): Promise<URL> {
  const { build: esbuild } = await import('esbuild');
  const entryPath = fileURLToPath(entry);
  const out = await esbuild({
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'warning',
  });
  const text = out.outputFiles[0]!.text;
  const dir = join(repoRoot(dirname(entryPath)), 'node_modules', '.cache', 'webphone-media-worker');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  const temp = `${file}.${process.pid}.${Date.now()}`;
  writeFileSync(temp, text);
  renameSync(temp, file); // atomic: a parallel process writing the same bundle is harmless
  return pathToFileURL(file);
}

/** gateway/media/workers → the repository root (where node_modules is). */
function repoRoot(dir: string): string {
  return join(dir, '..', '..', '..');
}
