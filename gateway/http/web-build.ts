// `npm run build` (run by `npm ci` too, through the "prepare" script): the page in web/ as one minified
// script (esbuild: web/app.js with every module it imports, sip.js included) named by its content hash,
// index.html with the stylesheets inlined and the hashed script name in place of the import map, and the
// service worker (web/sw.js, minified, not hashed: a service worker's URL must stay the same). Every file is
// precompressed (brotli, gzip). build/web/manifest.json lists the URL paths and the hash of every web/
// source it was built from (web-bundle.ts serves it only while they still match). Output is not committed.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';
import { MANIFEST, sha256, type BundleManifest } from './web-bundle.js';

export interface BuildResult {
  outDir: string;
  manifest: BundleManifest;
  /** URL path → bytes (identity, brotli). */
  sizes: Record<string, { raw: number; br: number }>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

const MODULE_SCRIPT = /<script type="module" src="([^"]+)"><\/script>/g;
const IMPORT_MAP = /\s*<!--[^>]*-->\s*(?=<script type="importmap">)|\s*<script type="importmap">[\s\S]*?<\/script>/g;
const STYLESHEET = /<link rel="stylesheet" href="([^"]+)">/g;

/** Builds web/ (under repoRoot) into outDir, replacing it whole at the end (a gateway starting meanwhile
 *  reads the old bundle or the new one, never half of each). */
export async function buildWebBundle(repoRoot: string, outDir = path.join(repoRoot, 'build', 'web')): Promise<BuildResult> {
  const work = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const result = await buildInto(repoRoot, work);
    const old = `${outDir}.old-${process.pid}-${Date.now()}`;
    try {
      renameSync(outDir, old);
    } catch {
      // no previous build
    }
    renameSync(work, outDir);
    rmSync(old, { recursive: true, force: true });
    return { ...result, outDir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildInto(repoRoot: string, outDir: string): Promise<BuildResult> {
  const webDir = path.join(repoRoot, 'web');
  const html = readFileSync(path.join(webDir, 'index.html'), 'utf8');
  const entries = [...html.matchAll(MODULE_SCRIPT)].map((m) => m[1]!);
  if (entries.length !== 1) throw new Error(`web/index.html: expected one <script type="module" src="…">, found ${entries.length}`);
  mkdirSync(outDir, { recursive: true });
  const inputs: Record<string, string> = {};
  const record = (rel: string): string => {
    const text = readFileSync(path.join(repoRoot, rel));
    inputs[rel.split(path.sep).join('/')] = sha256(text);
    return text.toString('utf8');
  };
  record('web/index.html');

  const common = { absWorkingDir: repoRoot, bundle: true, minify: true, format: 'esm', target: 'es2022', metafile: true, legalComments: 'none', logLevel: 'silent' } as const;
  const app = await build({ ...common, entryPoints: [path.join('web', entries[0]!)], outdir: outDir, entryNames: 'app-[hash]' });
  const sw = await build({ ...common, entryPoints: ['web/sw.js'], outdir: outDir, entryNames: 'sw', format: 'iife' });
  for (const meta of [app.metafile, sw.metafile]) {
    for (const input of Object.keys(meta.inputs)) if (input.startsWith('web/')) record(input);
  }
  const appFile = Object.keys(app.metafile.outputs).map((o) => path.basename(o)).find((o) => o.endsWith('.js'));
  if (!appFile) throw new Error('esbuild wrote no script');

  let page = html.replace(IMPORT_MAP, '');
  page = page.replace(MODULE_SCRIPT, `<script type="module" src="/${appFile}"></script>`);
  const styles: string[] = [];
  for (const m of html.matchAll(STYLESHEET)) styles.push(m[1]!);
  for (const href of styles) {
    const css = await transform(record(path.join('web', href)), { loader: 'css', minify: true, logLevel: 'silent' });
    page = page.replace(`<link rel="stylesheet" href="${href}">`, () => `<style>${css.code.trim()}</style>`);
  }
  writeFileSync(path.join(outDir, 'index.html'), page);

  const files: BundleManifest['files'] = {
    '/index.html': { file: 'index.html', type: TYPES['.html']!, immutable: false },
    [`/${appFile}`]: { file: appFile, type: TYPES['.js']!, immutable: true },
    '/sw.js': { file: 'sw.js', type: TYPES['.js']!, immutable: false },
  };
  const sizes: BuildResult['sizes'] = {};
  for (const [urlPath, f] of Object.entries(files)) {
    const full = path.join(outDir, f.file);
    const body = readFileSync(full);
    const br = brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } });
    writeFileSync(`${full}.br`, br);
    writeFileSync(`${full}.gz`, gzipSync(body, { level: 9 }));
    sizes[urlPath] = { raw: body.length, br: br.length };
  }
  const manifest: BundleManifest = { version: 1, files, inputs };
  writeFileSync(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { outDir, manifest, sizes };
}
