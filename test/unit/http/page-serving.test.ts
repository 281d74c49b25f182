// The web server's page: the built bundle when there is a current one, else — none, or stale — the web/
// modules with a warning naming `npm run build` (the gateway starts either way).
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../../gateway/http/server.js';
import { buildWebBundle } from '../../../gateway/http/web-build.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function serve(webBundleDir: string, lines: string[]): Promise<{ get(p: string, h?: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>; close(): Promise<void> }> {
  const logger = pino({ level: 'warn', base: undefined }, { write: (l: string) => void lines.push(l) });
  const app = createHttpApp({ logger, status: () => ({}), iceServers: { turn: undefined, checkPassword: () => false }, webBundleDir });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.90.2', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    get: (p, headers = {}) => new Promise((resolve, reject) => {
      http.get({ host: '127.0.90.2', port, path: p, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
      }).on('error', reject);
    }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('http/server: the page', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('no bundle: serves web/ as modules (import map, sip.js under /vendor), no-cache, and warns to build', async () => {
    const lines: string[] = [];
    const s = await serve(path.join(tmpdir(), 'no-such-bundle-dir'), lines);
    try {
      const index = await s.get('/');
      expect(index.status).toBe(200);
      expect(index.body).toContain('<script type="importmap">');
      expect(index.headers['cache-control']).toBe('no-cache');
      expect((await s.get('/app.js')).status).toBe(200);
      expect((await s.get('/vendor/sip.js/index.js')).status).toBe(200);
      expect(lines.join('\n')).toMatch(/web page served as separate modules \(no web bundle at .*\): run `npm run build`/);
    } finally {
      await s.close();
    }
  });

  it('a current bundle: index.html without import map, the hashed script immutable and brotli; modules not served', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'page-serving-'));
    dirs.push(dir);
    const built = await buildWebBundle(repo, path.join(dir, 'web'));
    const lines: string[] = [];
    const s = await serve(built.outDir, lines);
    try {
      const index = await s.get('/');
      expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(index.body).not.toContain('importmap');
      const script = Object.keys(built.manifest.files).find((f) => f.startsWith('/app-'))!;
      const js = await s.get(script, { 'accept-encoding': 'br' });
      expect(js.status).toBe(200);
      expect(js.headers['content-encoding']).toBe('br');
      expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect((await s.get('/app.js')).status).toBe(404);
      expect((await s.get('/vendor/sip.js/index.js')).status).toBe(404);
      expect(lines).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
