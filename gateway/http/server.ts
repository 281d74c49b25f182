// The web server: the softphone page at `/` (the built bundle, else web/ and sip.js at `/vendor/sip.js/`), a status API, the ICE servers
// for the page (ice-servers.ts), and the HTTP(S)
// server that the SIP transport attaches its WebSocket endpoint (`/sip`, RFC 7118) to.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../log.js';
import { packageRoot } from '../lib/root.js';
import { iceServersHandler, type IceServersDeps } from './ice-servers.js';
import { bundleMiddleware, loadBundle } from './web-bundle.js';
import { deviceTokenRouter, type DeviceTokenRoutes } from './device-tokens.js';
import type { ServerCredentials } from './tls.js';

export type WebServer = http.Server | https.Server;

// From the source or from the built bundle (build/gateway/main.js) alike (lib/root.ts).
const repoRoot = packageRoot(import.meta.url);
const webRoot = path.join(repoRoot, 'web');
/** Where `npm run build` leaves the page bundle (web-build.ts). */
export const DEFAULT_BUNDLE_DIR = path.join(repoRoot, 'build', 'web');

function sipJsRoot(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('sip.js/package.json')), 'lib');
}

export interface HttpDeps {
  logger: Logger;
  status: () => unknown;
  /** GET /api/ice-servers: the `turn` section and the users' passwords. */
  iceServers: Omit<IceServersDeps, 'logger'>;
  /** The built page (default build/web); without a current bundle there, web/ is served as modules. */
  webBundleDir?: string;
  /** Operator endpoints (/metrics, /api/cdrs; README "Operations"), mounted before the /api 404. */
  mount?: (app: express.Express) => void;
  /** The HTTP API router (api/index.ts) mounted at /api; absent: an open GET /api/status only. */
  api?: express.Router;
  /** /api/device-tokens: the page's "keep me signed in" (device-tokens.ts); absent: no such endpoint. */
  deviceTokens?: Omit<DeviceTokenRoutes, 'logger'>;
}

export function createHttpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // The operator API (api/): status, calls, click-to-call, registrations, trunks, /api/openapi.json.
  if (deps.api) app.use('/api', deps.api);
  else app.get('/api/status', (_req, res) => void res.json(deps.status()));
  app.get('/api/ice-servers', iceServersHandler({ ...deps.iceServers, logger: deps.logger }));
  deps.mount?.(app);
  if (deps.deviceTokens) app.use('/api/device-tokens', deviceTokenRouter({ ...deps.deviceTokens, logger: deps.logger }));
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'no such API endpoint' });
  });
  servePage(app, deps);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
  // Express error handler: a client's bad request (e.g. a malformed path) gets its 4xx, never a crash.
  app.use((err: { status?: number; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) deps.logger.error({ err }, 'http handler failed');
    res.status(status).type('text/plain').send(status === 404 ? 'Not found' : (err.message ?? 'Error'));
  });
  return app;
}

/** The page: the built bundle (hashed, precompressed, cached for a year; web-bundle.ts), else — no bundle
 *  or one older than web/ — the modules themselves, as a developer edits them, with a warning. */
function servePage(app: express.Express, deps: HttpDeps): void {
  const bundle = loadBundle(deps.webBundleDir ?? DEFAULT_BUNDLE_DIR, repoRoot);
  if (bundle.ok) {
    deps.logger.debug({ files: [...bundle.files.keys()] }, 'serving the page bundle');
    app.use(bundleMiddleware(bundle.files));
    return;
  }
  deps.logger.warn(`web page served as separate modules (${bundle.reason}): run \`npm run build\` for the bundled page`);
  app.use('/vendor/sip.js', express.static(sipJsRoot(), { fallthrough: false }));
  app.use(express.static(webRoot, { index: 'index.html', cacheControl: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
}

/** HTTPS when credentials are given — then only HTTPS: there is no plain-HTTP listener beside it, and a
 *  plain request to the port fails the TLS handshake (RFC 7118 §5: WebSocket over it is then WSS). */
export function createWebServer(app: express.Express, credentials?: ServerCredentials, deadlineMs = 10_000, limits: PerAddressLimit = {}): WebServer {
  // Slow-loris: request headers must be complete within deadlineMs (checked every second; 0: Node's 60 s).
  const headersTimeout = deadlineMs > 0 ? deadlineMs : 60_000;
  const timeouts = { headersTimeout, requestTimeout: Math.max(headersTimeout, 30_000), connectionsCheckingInterval: 1000 };
  if (!credentials) return capPerAddress(guardFirstByte(http.createServer(timeouts, app), deadlineMs), limits);
  const tlsOptions = { cert: credentials.cert, key: credentials.key, minVersion: 'TLSv1.2' as const, handshakeTimeout: headersTimeout };
  // Over TLS the handshake deadline covers a connection that sends nothing.
  const server = https.createServer({ ...tlsOptions, ...timeouts }, app);
  // A failed handshake (a plain-HTTP client, an untrusting browser) only concerns that socket.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return capPerAddress(server, limits);
}

export interface PerAddressLimit {
  /** TCP connections at once from one source IP (page loads, API calls and WebSocket upgrades alike);
   *  one more is reset at once. 0 or absent: no cap (config http.maxConnectionsPerAddress, default 256). */
  maxPerAddress?: number;
  /** Told of a refusal (logged by the caller, at most once a minute per source). */
  onRefused?(source: string): void;
}

/** A per-source cap on open connections (issue 8: one address cannot hold every descriptor through the
 *  web server either). Counted from 'connection' to 'close', before any byte or TLS handshake. */
function capPerAddress<T extends WebServer>(server: T, limits: PerAddressLimit): T {
  const max = limits.maxPerAddress ?? 0;
  if (max <= 0) return server;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const source = (socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
    const count = open.get(source) ?? 0;
    if (count >= max) {
      limits.onRefused?.(source);
      socket.destroy();
      return;
    }
    open.set(source, count + 1);
    socket.once('close', () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
  });
  return server;
}

/** A connection that sends nothing is closed after `ms` (Node's headersTimeout only runs once a byte came). */
function guardFirstByte(server: http.Server, ms: number): http.Server {
  if (ms <= 0) return server;
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    timer.unref();
    socket.once('data', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
  return server;
}

/** Listen on host:port; resolves with the bound port (port 0 picks a free one). */
export function listenHttp(server: WebServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export function closeHttp(server: WebServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
