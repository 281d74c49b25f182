// The page bundle: web-build.ts makes it from a small web/ of its own (a temp dir); web-bundle.ts serves it
// (encodings, cache headers, validators) and refuses it once a source changed (the gateway then serves
// the modules: a developer never gets yesterday's bundle).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebBundle, type BuildResult } from '../../../gateway/http/web-build.js';
import { IMMUTABLE, NO_CACHE, acceptedCodings, bundleMiddleware, loadBundle } from '../../../gateway/http/web-bundle.js';

const INDEX = `<!doctype html>
<html><head>
  <link rel="stylesheet" href="style.css">
  <!-- sip.js ships plain ES modules: no bundler needed. -->
  <script type="importmap">{"imports": {"x": "/vendor/x.js"}}</script>
  <script type="module" src="app.js"></script>
</head><body><p id="a">page</p></body></html>
`;

type Sent = { status: number; headers: Record<string, string>; body: Buffer | undefined; next: boolean };

function request(handler: ReturnType<typeof bundleMiddleware>, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Sent {
  const sent: Sent = { status: 0, headers: {}, body: undefined, next: false };
  const res = {
    setHeader: (k: string, v: string) => { sent.headers[k.toLowerCase()] = v; },
    status: (s: number) => { sent.status = s; return res; },
    end: (b?: Buffer) => { sent.body = b; },
  };
  const req = { method, path: urlPath, headers } as unknown as Request;
  handler(req, res as unknown as Response, (() => { sent.next = true; }) as NextFunction);
  return sent;
}

describe('http/web-build + web-bundle', () => {
  let root: string;
  let built: BuildResult;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'web-bundle-'));
    mkdirSync(path.join(root, 'web'));
    writeFileSync(path.join(root, 'web', 'index.html'), INDEX);
    writeFileSync(path.join(root, 'web', 'app.js'), "import { twice } from './b.js';\ndocument.getElementById('a').textContent = String(twice(21));\n");
    writeFileSync(path.join(root, 'web', 'b.js'), 'export function twice(n) {\n  return n * 2; // a comment that minification drops\n}\n');
    writeFileSync(path.join(root, 'web', 'style.css'), 'body {\n  color: #123456;\n}\n');
    writeFileSync(path.join(root, 'web', 'sw.js'), "self.addEventListener('install', () => self.skipWaiting());\n");
    built = await buildWebBundle(root);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('one minified script named by its hash, the CSS inlined, no import map, every web/ input hashed', () => {
    const files = Object.keys(built.manifest.files);
    const script = files.find((f) => /^\/app-[A-Z0-9]{8}\.js$/.test(f));
    expect(script, files.join(' ')).toBeDefined();
    expect(files.sort()).toEqual(['/index.html', script!, '/sw.js'].sort());
    const html = readFileSync(path.join(built.outDir, 'index.html'), 'utf8');
    expect(html).toContain(`<script type="module" src="${script}"></script>`);
    expect(html).toContain('<style>body{color:#123456}</style>');
    expect(html).not.toMatch(/importmap|stylesheet|no bundler/);
    const js = readFileSync(path.join(built.outDir, script!.slice(1)), 'utf8');
    expect(js).not.toContain('comment');
    expect(js).not.toMatch(/\bimport\b/); // b.js is inside
    expect(Object.keys(built.manifest.inputs).sort()).toEqual(['web/app.js', 'web/b.js', 'web/index.html', 'web/style.css', 'web/sw.js']);
  });

  it('serves brotli, else gzip, else identity; the hashed script immutable, index.html and sw.js no-cache', () => {
    const load = loadBundle(built.outDir, root);
    if (!load.ok) throw new Error(load.reason);
    const serve = bundleMiddleware(load.files);
    const script = Object.keys(built.manifest.files).find((f) => f.startsWith('/app-'))!;
    const raw = readFileSync(path.join(built.outDir, script.slice(1)));

    const br = request(serve, script, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers).toMatchObject({ 'content-encoding': 'br', 'cache-control': IMMUTABLE, vary: 'Accept-Encoding', 'content-type': 'text/javascript; charset=utf-8' });
    expect(brotliDecompressSync(br.body!)).toEqual(raw);
    const gz = request(serve, script, { 'accept-encoding': 'gzip, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body!)).toEqual(raw);
    const plain = request(serve, script);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toEqual(raw);

    const index = request(serve, '/', { 'accept-encoding': 'br' });
    expect(index.headers['cache-control']).toBe(NO_CACHE);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(request(serve, '/sw.js').headers['cache-control']).toBe(NO_CACHE);
    // RFC 9110 §13.1.2: revalidation with the ETag → 304 without a body.
    const again = request(serve, '/', { 'if-none-match': index.headers.etag! });
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
    // HEAD: the headers only. Unknown paths and other methods fall through.
    expect(request(serve, '/index.html', {}, 'HEAD').body).toBeUndefined();
    expect(request(serve, '/nope.js').next).toBe(true);
    expect(request(serve, '/', {}, 'POST').next).toBe(true);
  });

  it('a source edited after the build: the bundle is refused (stale), naming the file; missing: refused', () => {
    writeFileSync(path.join(root, 'web', 'b.js'), 'export function twice(n) { return n + n; }\n');
    const stale = loadBundle(built.outDir, root);
    expect(stale).toEqual({ ok: false, reason: 'the web bundle is older than web/b.js' });
    expect(loadBundle(path.join(root, 'nowhere'), root)).toMatchObject({ ok: false, reason: expect.stringContaining('no web bundle') });
  });

  it('Accept-Encoding (RFC 9110 §12.5.3): q=0 refuses, * accepts, identity unless refused', () => {
    expect([...acceptedCodings(undefined)]).toEqual(['identity']);
    expect(acceptedCodings('br;q=0.5, gzip').has('br')).toBe(true);
    expect(acceptedCodings('br;q=0, gzip').has('br')).toBe(false);
    expect(acceptedCodings('*')).toEqual(new Set(['identity', 'br', 'gzip']));
    expect(acceptedCodings('identity;q=0, gzip').has('identity')).toBe(false);
  });
});
