// The page as `npm run build` leaves it in build/web/ (web-build.ts): index.html (no-cache, the hashed script
// name inside, the CSS inlined), app-<hash>.js (immutable for a year), sw.js (no-cache: the service worker's
// scope is `/`), each precompressed (.br, .gz). Read into memory once at start (a few hundred kB).
//
// No bundle, or one built from other sources than web/ holds now (a page module edited since the build):
// the gateway serves web/ as plain ES modules instead (server.ts), with a warning naming `npm run build`.
// A developer editing web/ is never served yesterday's bundle.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

export const MANIFEST = 'manifest.json';
export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';

/** build/web/manifest.json, written by web-build.ts. */
export interface BundleManifest {
  version: 1;
  /** URL path → file in the bundle dir and how it may be cached. */
  files: Record<string, { file: string; type: string; immutable: boolean }>;
  /** Repository-relative source path → sha256 hex of the content the bundle was built from. */
  inputs: Record<string, string>;
}

interface Variant {
  body: Buffer;
  encoding: 'br' | 'gzip' | 'identity';
}

interface Served {
  type: string;
  cacheControl: string;
  etag: string;
  variants: Variant[];
}

export type BundleLoad = { ok: true; files: Map<string, Served> } | { ok: false; reason: string };

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The first source the bundle was not built from as it is now ('' when all match). */
export function staleInput(manifest: BundleManifest, repoRoot: string): string {
  for (const [rel, hash] of Object.entries(manifest.inputs)) {
    const file = path.join(repoRoot, rel);
    if (!existsSync(file) || sha256(readFileSync(file)) !== hash) return rel;
  }
  return '';
}

/** Loads a built bundle, or says why it cannot be served (missing, unreadable, stale). */
export function loadBundle(dir: string, repoRoot: string): BundleLoad {
  const manifestPath = path.join(dir, MANIFEST);
  if (!existsSync(manifestPath)) return { ok: false, reason: `no web bundle at ${dir}` };
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BundleManifest;
    if (manifest.version !== 1 || typeof manifest.files !== 'object' || typeof manifest.inputs !== 'object') throw new Error('unknown manifest version');
  } catch (err) {
    return { ok: false, reason: `unreadable ${manifestPath}: ${(err as Error).message}` };
  }
  const stale = staleInput(manifest, repoRoot);
  if (stale) return { ok: false, reason: `the web bundle is older than ${stale}` };
  const files = new Map<string, Served>();
  try {
    for (const [urlPath, f] of Object.entries(manifest.files)) {
      const full = path.join(dir, f.file);
      const identity = readFileSync(full);
      const variants: Variant[] = [];
      for (const [ext, encoding] of [['.br', 'br'], ['.gz', 'gzip']] as const) {
        if (existsSync(full + ext)) variants.push({ body: readFileSync(full + ext), encoding });
      }
      variants.push({ body: identity, encoding: 'identity' });
      files.set(urlPath, { type: f.type, cacheControl: f.immutable ? IMMUTABLE : NO_CACHE, etag: `"${sha256(identity).slice(0, 32)}"`, variants });
    }
  } catch (err) {
    return { ok: false, reason: `unreadable web bundle: ${(err as Error).message}` };
  }
  if (!files.has('/index.html')) return { ok: false, reason: 'the web bundle has no index.html' };
  return { ok: true, files };
}

/** RFC 9110 §12.5.3: the codings the client accepts (q > 0); `identity` always unless refused. */
export function acceptedCodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>(['identity']);
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    if (name === '*') {
      if (weight > 0) ['br', 'gzip'].forEach((c) => accepted.add(c));
      continue;
    }
    if (weight > 0) accepted.add(name);
    else accepted.delete(name);
  }
  return accepted;
}

/** Express middleware serving the loaded bundle (GET/HEAD); anything else falls through. */
export function bundleMiddleware(files: Map<string, Served>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const served = files.get(req.path === '/' ? '/index.html' : req.path);
    if (!served) return next();
    const accepted = acceptedCodings(req.headers['accept-encoding']);
    const variant = served.variants.find((v) => accepted.has(v.encoding)) ?? served.variants[served.variants.length - 1]!;
    res.setHeader('Content-Type', served.type);
    res.setHeader('Cache-Control', served.cacheControl);
    res.setHeader('ETag', served.etag);
    res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (variant.encoding !== 'identity') res.setHeader('Content-Encoding', variant.encoding);
    // RFC 9110 §13.1.2: If-None-Match with our validator → 304, no body (how a no-cache index.html revalidates).
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === served.etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Length', String(variant.body.length));
    res.status(200).end(req.method === 'HEAD' ? undefined : variant.body);
  };
}
