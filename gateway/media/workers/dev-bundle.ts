// The worker entry bundled on the fly when the gateway runs from its TypeScript sources (tests, tsx): a worker
// thread does not inherit the tsx loader, and loading the engine's modules through tsx in every worker costs
// ≈ 0.9 s per start here; esbuild (a dev dependency, what npm run build:gateway uses) bundles it in ≈ 0.13 s,
// and a worker starts from the bundle in ≈ 0.1 s. The bundle is written under node_modules/.cache (its bare
// imports resolve from there), named after the sources it was built from (every file under gateway/: path,
// size, modification time), so that the processes of a test run build it once between them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let built: Promise<URL> | undefined;

/** The bundle of `entry` (a .ts file URL), built once per state of the sources. */
export function devBundle(entry: URL): Promise<URL> {
  built ??= build(entry);
  return built;
}

async function build(entry: URL): Promise<URL> {
  const entryPath = fileURLToPath(entry);
  const root = join(dirname(entryPath), '..', '..', '..');
  const dir = join(root, 'node_modules', '.cache', 'webphone-media-worker');
  const file = join(dir, `${sourcesKey(join(root, 'gateway'))}.mjs`);
  if (existsSync(file)) return pathToFileURL(file);
  const { build: esbuild } = await import('esbuild');
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
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}`;
  writeFileSync(temp, out.outputFiles[0]!.text);
  renameSync(temp, file); // atomic: a parallel process writing the same bundle is harmless
  return pathToFileURL(file);
}

/** A digest of every file under `dir`: path, size and modification time. */
function sourcesKey(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const s = statSync(path);
        hash.update(`${path}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}
