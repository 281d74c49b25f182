// buildGateway(config): the whole gateway as one object that tests start and stop without globals.
// Ownership: the Gateway owns the HTTP server, the SIP transport, the transaction layer, the media engine
// and the SIP service; stop() closes them in reverse order and is idempotent.
import { networkInterfaces } from 'node:os';
import { startSipService, type SipService } from './call/index.js';
import { createTrunkAcl } from './call/trunk-acl.js';
import type { Call } from './call/call.js';
import { recordQualityNow } from './call/quality.js';
import type { InterfaceList } from './config/addresses.js';
import { allowedOrigins, connectionLimits } from './config/hygiene.js';
import { parsePortRange, sipListenText, splitHostPort } from './config/load.js';
import { httpAdvertised, mediaAdvertised, pageUrl, sipListenPoints } from './config/resolve.js';
import type { GatewayConfig } from './config/schema.js';
import { createLiveConfig } from './config/live.js';
import { reloadGateway, type ReloadResult } from './reload.js';
import { createOperatorApi } from './http/api/index.js';
import type { Express } from 'express';
import { openCdrs, type Cdrs } from './cdr/index.js';
import { requireOperator } from './http/access.js';
import { createMetrics } from './metrics/index.js';
import { closeHttp, createHttpApp, createWebServer, listenHttp, type WebServer } from './http/server.js';
import { loadServerCredentials, trunkTlsPeers } from './http/tls.js';
import { createLogger, type Logger } from './log.js';
import { createEmbeddedMediaEngineFor } from './media/index.js';
import { createRtpengineMediaEngine } from './media/rtpengine/engine.js';
import { startSecurity, type Security } from './security/index.js';
import type { MediaEngine } from './media/types.js';
import { createTransactionLayer } from './sip/transaction/index.js';
import { addSecrets, passwordCheck, realmOf } from './sip/ua/credentials.js';
import { DeviceTokens } from './http/device-tokens.js';
import type { TimerValues, TransactionLayer } from './sip/transaction/types.js';
import { createTransport } from './sip/transport/index.js';
import type { SipTransport, TransportKind, Address, Flow } from './sip/transport/types.js';

export interface GatewayStatus extends Record<string, unknown> {
  calls: number;
  registrations: number;
  sip: Partial<Record<TransportKind, Address>>;
}

export interface Gateway {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The page URL, e.g. "http://127.0.0.1:8080/", https:// with http.tls (valid after start()). */
  readonly httpUrl: string;
  /** The advertised SIP address for a transport, what Via sent-by and Contact carry (valid after start()). */
  sipAddress(kind: TransportKind): Address | undefined;
  status(): GatewayStatus;
  /** Runs `next` (validated) for users, routes, trunks, dial rules and the http.tls files, calls and
   *  registrations kept; other keys stay (a warning names them). Throws, changing nothing, on a bad
   *  certificate (reload.ts, config/reload.ts). */
  reload(next: GatewayConfig): ReloadResult;
}

export interface BuildOptions {
  logger?: Logger;
  /** RFC 3261 timer overrides (tests shorten T1 so Timer B fires in seconds). */
  timers?: Partial<TimerValues>;
  /** The host's interfaces, for wildcard binds without an advertise (default os.networkInterfaces()). */
  interfaces?: InterfaceList;
  /** The built page's directory (default build/web: `npm run build`; http/web-bundle.ts). */
  webBundleDir?: string;
}

interface Running {
  server: WebServer;
  /** Call detail records (gateway/cdr): closed after the SIP service, so the calls' ends are written. */
  cdrs: Cdrs;
  transport: SipTransport;
  transactions: TransactionLayer;
  media: MediaEngine;
  service: SipService;
  security: Security;
}

/** What the start, the status and the stop of one gateway share (buildGateway). */
interface Core {
  config: GatewayConfig;
  live: ReturnType<typeof createLiveConfig>;
  logger: Logger;
  options: BuildOptions;
  metrics: ReturnType<typeof createMetrics>;
  listen: ReturnType<typeof splitHostPort>;
  status(): GatewayStatus;
  running?: Running;
  httpUrl: string;
}

export function buildGateway(config: GatewayConfig, options: BuildOptions = {}): Gateway {
  // Every module gets the live view: a reload (SIGHUP) replaces what its keys read (config/live.ts).
  const live = createLiveConfig(config);
  config = live.view;
  const logger = options.logger ?? createLogger(config.log.level, undefined, config.log.format);
  const listen = splitHostPort(config.http.listen);
  // Prometheus metrics (gateway/metrics): GET /metrics, behind the operator check (http/access.ts).
  const metrics = createMetrics(config);
  let starting: Promise<void> | undefined;
  // With http.tls the page and /sip are served over HTTPS/WSS only (no plain listener at all): pageUrl.
  const tlsListen = config.sip.listen.some((l) => sipListenText(l).startsWith('tls:'));
  const core: Core = { config, live, logger, options, metrics, listen, httpUrl: pageUrl(config, { host: listen.host }, listen.port), status: () => gatewayStatus(core, tlsListen) };

  return {
    start() {
      starting ??= doStart(core);
      return starting;
    },
    async stop() {
      if (starting) await starting.catch(() => undefined);
      const r = core.running;
      core.running = undefined;
      starting = undefined;
      if (r) await closeParts(r);
    },
    get httpUrl() {
      return core.httpUrl;
    },
    sipAddress(kind) {
      return core.running?.transport.localAddress(kind);
    },
    status: core.status,
    reload: (next) => reloadGateway({ live, logger, server: core.running?.server, transport: core.running?.transport }, next),
  };
}

function gatewayStatus(core: Core, tlsListen: boolean): GatewayStatus {
  const sip: GatewayStatus['sip'] = {};
  for (const kind of ['udp', 'tcp', ...(tlsListen ? (['tls'] as const) : []), 'ws', 'wss'] as const) {
    const a = core.running?.transport.localAddress(kind);
    if (a) sip[kind] = a;
  }
  // The SIP service reports calls, registrations and whatever else it tracks (trunk registrations …).
  const s = core.running?.service.status() ?? { calls: 0, registrations: 0 };
  return { ...s, sip };
}

async function doStart(core: Core): Promise<void> {
  const pre = prepareStart(core);
  // The media engine before anything listens: its first worker thread is up (media.workers) before a call can
  // come, and the SIP service starts at once after the front (no window answering 503 while it starts).
  const media = await createMediaEngine(core.config, pre.addresses.media, core.logger.child({ layer: 'media' })).catch((err: unknown) => {
    pre.security.close();
    pre.acl.close();
    throw err;
  });
  const front = await openFront(core, pre).catch(async (err: unknown) => {
    await media.close();
    throw err;
  });
  const parts: Partial<Running> = { server: front.server, security: pre.security, cdrs: front.cdrs, media };
  try {
    await startSip(core, pre, front, parts);
    core.running = parts as Running;
    core.logger.info({ url: core.httpUrl, sip: core.status().sip }, 'gateway started');
  } catch (err) {
    if (!parts.service) pre.acl.close();
    await closeParts(parts);
    throw err;
  }
}

/** Addresses, TLS files, the trunk ACL, security and the page's sign-in: decided before anything listens. */
function prepareStart(core: Core) {
  const { config, logger, metrics, options, live } = core;
  // What goes on the wire is decided before anything listens: an ambiguous wildcard stops start-up here.
  const addresses = advertisedAddresses(config, options.interfaces ?? networkInterfaces());
  // Unreadable/invalid PEM files fail here, before anything listens; the error names the config key.
  const credentials = config.http.tls ? loadServerCredentials(config.http.tls) : undefined;
  const tlsClient = { peers: trunkTlsPeers(config.trunks) };
  // One trunk ACL for the call layer and the transport (trunk addresses skip the connection caps).
  const acl = createTrunkAcl({ trunks: config.trunks, logger: logger.child({ component: 'acl' }) });
  live.onChange((c) => acl.update(c.trunks));
  const isTrunk = (ip: string): boolean => acl.trunkFor({ transport: 'tcp', remote: { address: ip, port: 0 } } as Flow) !== undefined;
  // Per-source limits, bans, scanner drop and the authentication lockout (README "Security"); trunks exempt.
  // The page's sign-in (GET /api/ice-servers, HTTP Basic) counts toward the same lockout.
  const security = startSecurity({ config, logger: logger.child({ layer: 'security' }), trunks: acl });
  const iceServers = { turn: config.turn, checkPassword: security.checkPassword(passwordCheck(config)) };
  // "Keep me signed in": per-device tokens the registrar and the INVITE check accept (http/device-tokens.ts).
  const tokens = new DeviceTokens({ realm: realmOf(config), isAccount: (name) => config.users.some((u) => u.name === name) });
  addSecrets(config, tokens);
  const deviceTokens = { tokens, checkPassword: iceServers.checkPassword };
  const limits = connectionLimits(config);
  security.onAuthFailure((f) => metrics.authFailed(f.method, f.reason));
  security.onBan(() => metrics.banned());
  return { addresses, credentials, tlsClient, acl, isTrunk, security, iceServers, deviceTokens, limits };
}

type Prepared = ReturnType<typeof prepareStart>;

/** CDRs, the HTTP API and the web server, listening (core.httpUrl set); on a failure what was opened closes. */
async function openFront(core: Core, pre: Prepared) {
  const { config, logger, metrics, options, listen, status } = core;
  const { security, acl, iceServers, deviceTokens, limits, credentials } = pre;
  // CDRs: the rows a crash left open are closed as "gateway restarted" before any new call.
  // Each call's final quality per side goes into its record (call/quality.ts; embedded engine).
  const cdrQuality = (call: Call) => (core.running?.media ? recordQualityNow(call, core.running.media) : undefined);
  const cdrs = await openCdrs(config, logger.child({ component: 'cdr' }), Date.now, cdrQuality).catch((err: unknown) => {
    security.close();
    acl.close();
    throw err;
  });
  const operator = requireOperator(() => config.api.token);
  const mount = (app: Express): void => {
    app.get('/metrics', operator, metrics.handler);
    app.get('/api/cdrs', operator, cdrs.handler);
  };
  // The HTTP API (http/api): its call book follows every call the SIP service starts.
  const api = createOperatorApi({ config, cdrs: cdrs.handler, checkPassword: iceServers.checkPassword, logger: logger.child({ component: 'api' }), status, service: () => core.running?.service, media: () => core.running?.media });
  const server = createWebServer(createHttpApp({ logger, status, iceServers, deviceTokens, api: api.router, webBundleDir: options.webBundleDir, mount }), credentials, limits.firstMessageMs, {
    maxPerAddress: config.http.maxConnectionsPerAddress,
    onRefused: httpRefusalLog(logger, config.http.maxConnectionsPerAddress),
  });
  const port = await listenHttp(server, listen.host, listen.port).catch((err: unknown) => {
    security.close();
    acl.close();
    void cdrs.close();
    throw err;
  });
  core.httpUrl = pageUrl(config, pre.addresses.http, port);
  return { cdrs, api, server, port };
}

/** The SIP transport, the transaction layer, the media engine and the SIP service, into `parts`. */
async function startSip(core: Core, pre: Prepared, front: Awaited<ReturnType<typeof openFront>>, parts: Partial<Running>): Promise<void> {
  const { config, logger, metrics, options, listen } = core;
  const { addresses, credentials, limits, security, acl } = pre;
  const { server, port, api, cdrs } = front;
  parts.transport = await createTransport({
    listen: addresses.sip,
    ws: {
      server,
      path: '/sip',
      secure: credentials !== undefined,
      advertise: { address: addresses.http.host, port: addresses.http.port },
      allowedOrigins: allowedOrigins(config, core.httpUrl, listen.host, port),
    },
    limits,
    exempt: pre.isTrunk,
    tlsServer: credentials,
    tlsClient: pre.tlsClient,
    admit: security.admit,
    screenRaw: security.screenRaw,
    screen: security.screen,
    udpReceiveBuffer: config.sip.udpReceiveBuffer,
    responseRouting: config.sip.responseRouting,
    logger: logger.child({ layer: 'transport' }),
  });
  // A source just banned keeps none of its open TCP/TLS/WS connections.
  const transport = parts.transport;
  security.onBan((ip) => transport.closeConnectionsFrom?.(ip));
  // The SIP layers' messages and transactions counted from outside them (metrics/sip.ts).
  const observed = metrics.observeTransport(parts.transport);
  parts.transactions = metrics.observeTransactions(security.watch(createTransactionLayer({
    transport: observed,
    timers: options.timers,
    maxServerTransactions: config.sip.maxServerTransactions,
    overload: config.sip.overload,
    logger: logger.child({ layer: 'transaction' }),
  })));
  parts.service = startSipService({
    config,
    transport: observed,
    transactions: parts.transactions,
    media: parts.media!,
    acl,
    logger: logger.child({ layer: 'call' }),
    observers: [api.book, cdrs.recorder, metrics.calls],
  });
  metrics.attach({ media: parts.media, service: parts.service });
}

/** A warn line per source refused by http.maxConnectionsPerAddress, at most once a minute per source. */
function httpRefusalLog(logger: Logger, limit: number): (source: string) => void {
  const last = new Map<string, number>();
  return (source) => {
    const now = Date.now();
    if (now - (last.get(source) ?? -Infinity) < 60_000) return;
    if (last.size > 10_000) last.clear();
    last.set(source, now);
    logger.warn({ source, limit }, `http connection refused: source=${source} reason=address limit=${limit}`);
  };
}

/** Every address the gateway advertises (config/resolve.ts); media only for the embedded engine (rtpengine
 *  has its own --interface). */
function advertisedAddresses(config: GatewayConfig, interfaces: InterfaceList) {
  return {
    sip: sipListenPoints(config, interfaces),
    http: httpAdvertised(config, interfaces),
    media: config.media.engine === 'embedded' ? mediaAdvertised(config, interfaces) : undefined,
  };
}

/** The one place a media engine is chosen (media.engine; the schema requires media.rtpengine with it).
 *  `advertise`: the address SDP and ICE candidates carry (never the 0.0.0.0 a wildcard binds). */
function createMediaEngine(config: GatewayConfig, advertise: string | undefined, logger: Logger): Promise<MediaEngine> {
  // media.inactivityTimeout: the engine reports a silent leg; the call layer ends the call (call/liveness.ts).
  const inactivityTimeoutMs = config.media.inactivityTimeout * 1000;
  if (config.media.engine === 'rtpengine') {
    return createRtpengineMediaEngine({ address: splitHostPort(config.media.rtpengine!), strictSource: config.media.strictSource, injectDtmf: config.media.rtpengineInjectDtmf, inactivityTimeoutMs, logger });
  }
  // media.workers: the engine in this thread (0) or in worker threads (media/workers)
  return createEmbeddedMediaEngineFor(config.media.workers, {
    bindAddress: config.media.address,
    advertiseAddress: advertise ?? config.media.advertiseAddress,
    portRange: parsePortRange(config.media.rtpPorts),
    strictSource: config.media.strictSource,
    iceTcp: config.media.iceTcp ?? true,
    inactivityTimeoutMs,
    rtcp: config.media.rtcp,
    admission: config.media.admission,
    logger,
  });
}

async function closeParts(p: Partial<Running>): Promise<void> {
  await p.service?.close();
  await p.cdrs?.close();
  await p.media?.close();
  p.transactions?.close();
  await p.transport?.close();
  p.security?.close();
  if (p.server) await closeHttp(p.server);
}
