// `npm run build` (and `npm ci`, through "prepare"): builds the page bundle into build/web/ (http/web-build.ts).
// Before the sources exist (a Docker layer that installs the dependencies first) there is nothing to build.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWebBundle } from './http/web-build.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(path.join(repoRoot, 'web', 'index.html'))) {
  process.stdout.write('build: no web/ sources here, nothing to build\n');
} else {
  const result = await buildWebBundle(repoRoot);
  const lines = Object.entries(result.sizes).map(([url, s]) => `  ${url}  ${(s.raw / 1024).toFixed(1)} kB, ${(s.br / 1024).toFixed(1)} kB brotli`);
  process.stdout.write(`build: page bundle in ${path.relative(repoRoot, result.outDir)}/\n${lines.join('\n')}\n`);
}
