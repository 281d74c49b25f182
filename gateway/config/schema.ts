// The one configuration file (YAML), validated once at start. Every key is documented in
// sip-config/gateway.yaml. Errors name the file and the key (see load.ts).
import { z } from 'zod';
import { isWildcard, parseAdvertise } from './addresses.js';
import { passwordSchema, securityIssues, securitySchema } from './security.js';
import { dialRulesIssues, dialRulesSchema, maxDurationField, trunkPolicyFields, userPolicyFields } from './dial-rules.js';
import { callerIdSchema, inboundSchema, rewriteSchema, trunkRouteSchema } from './dial-plan.js';
import { apiSchema, cdrSchema, logSchema } from './ops.js';
import { regexString as regex } from './fields.js';

/** Fewest media.rtpPorts per media worker (gateway/media/workers/split.ts MIN_PORTS_PER_WORKER, same figure). */
const MIN_PORTS_PER_MEDIA_WORKER = 50;

/** An explicit media.workers whose share of media.rtpPorts would be too small (auto adapts instead). */
function mediaWorkersIssue(media: { workers: 'auto' | number; rtpPorts: string }, ctx: z.RefinementCtx): void {
  const [from, to] = media.rtpPorts.split('-').map(Number) as [number, number];
  const each = Math.floor((to - from + 1) / (typeof media.workers === 'number' ? media.workers : 1));
  if (typeof media.workers !== 'number' || media.workers < 2 || !(each < MIN_PORTS_PER_MEDIA_WORKER)) return;
  const message = `${media.workers} workers would get ${each} ports each of media.rtpPorts ${media.rtpPorts}: at least ${MIN_PORTS_PER_MEDIA_WORKER} each (widen media.rtpPorts or lower media.workers)`;
  ctx.addIssue({ code: 'custom', path: ['media', 'workers'], message });
}

/** Only the range: a malformed value (no numeric port) is reported once, by the regex. */
const portInRange = (s: string): boolean => !(Number(s.slice(s.lastIndexOf(':') + 1)) > 65535);

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5})$/, 'expected "host:port", e.g. "127.0.0.1:8080"')
  .refine(portInRange, 'port must be 0-65535');

/** "udp:127.0.0.1:5060" | "tcp:127.0.0.1:5060" | "tls:127.0.0.1:5061" (tls presents http.tls's certificate) */
const sipListen = z
  .string()
  .regex(/^(udp|tcp|tls):(\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5})$/, 'expected "udp|tcp|tls:host:port", e.g. "udp:127.0.0.1:5060"')
  .refine(portInRange, 'port must be 0-65535');

/** An address to advertise: "host" or "host:port" (IPv6 in brackets when a port follows); never a wildcard. */
const advertise = (what: 'host' | 'host or host:port') =>
  z
    .string()
    .refine((s) => {
      const a = parseAdvertise(s);
      return a !== undefined && (what === 'host or host:port' || a.port === undefined);
    }, `expected ${what}, e.g. "203.0.113.10"${what === 'host' ? '' : ' or "203.0.113.10:5060"'}`)
    .refine((s) => !isWildcard(parseAdvertise(s)?.host ?? ''), 'a wildcard (0.0.0.0, ::) cannot be advertised: name the address peers reach');

/** A listening point: the string form, or { listen, advertise } with the host[:port] put on the wire. */
const sipListenEntry = z.union([sipListen, z.object({ listen: sipListen, advertise: advertise('host or host:port').optional() }).strict()]);

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'expected "from-to", e.g. "20000-20999"')
  .refine((s) => {
    const [from, to] = s.split('-').map(Number) as [number, number];
    return from >= 1024 && to <= 65535 && to - from >= 3;
  }, 'range must lie within 1024-65535 and hold at least 4 ports');

/** A user's own PBX account: while the user is registered here, the gateway keeps a registration for
 *  it there; calls to that account ring the user; the user's calls go out through that PBX. */
export const upstreamSchema = z
  .object({
    registrar: z.string().regex(/^sips?:/, 'expected a sip: URI, e.g. "sip:pbx.example.com;transport=udp"'),
    username: z.string().min(1),
    password: z.string().min(1),
    /** Domain of the account's AOR (sip:username@domain); default: the registrar's host. */
    domain: z.string().min(1).optional(),
    /** Requested registration lifetime in seconds. */
    expires: z.number().int().min(60).max(86400).default(600),
  })
  .strict();

export const userSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._~+-]{1,64}$/, 'user names are 1-64 of A-Z a-z 0-9 . _ ~ + -'),
    /** The digest password, or { ha1: { realm, md5?, sha256? } } (config/security.ts). */
    password: passwordSchema,
    callerId: callerIdSchema.optional(),
    /** Caller ID withheld on this user's outbound calls (RFC 3323 anonymous From; dial-plan.ts). Absent: false. */
    privacy: z.boolean().optional(),
    /** A short number other users dial to reach this user (the name is dialable too). */
    extension: z.string().regex(/^[0-9*#+]{1,15}$/, 'extensions are 1-15 of 0-9 * # +').optional(),
    /** Numbers (DIDs) that, called in from a trunk, ring this user. */
    dids: z.array(z.string().regex(/^\+?[0-9]{1,20}$/, 'a DID is digits with an optional leading +')).default([]),
    upstream: upstreamSchema.optional(),
    /** Call waiting: a call to this user while they are in a call rings their page too (true when absent);
     *  false: the gateway answers it 486 Busy Here (gateway/call/waiting.ts). */
    callWaiting: z.boolean().optional(),
    /** Dial rules (config/dial-rules.ts): group, classes, maxCalls, callsPerHour. */
    ...userPolicyFields,
  })
  .strict();

export const trunkTlsSchema = z
  .object({ ca: z.string().min(1).optional(), verify: z.boolean().default(true) })
  .strict();

/** OPTIONS keep-alive toward a trunk (RFC 3261 §11; gateway/upstream/keepalive.ts). */
export const trunkKeepaliveSchema = z
  .object({
    /** Seconds between OPTIONS probes (the first goes out one interval after start). */
    interval: z.number().int().min(5).max(3600).default(30),
    /** Unanswered probes in a row (Timer F or a transport error) that mark the trunk down. */
    failures: z.number().int().min(1).max(10).default(2),
  })
  .strict();

export const trunkSchema = z
  .object({
    name: z.string().min(1),
    uri: z.string().regex(/^sips?:/, 'expected a sip: URI, e.g. "sip:trunk.example.com:5060;transport=udp"'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** A REFER from this trunk (RFC 3515): 'honour' (the gateway calls the target and joins the user to it)
     *  or 'refuse' (403). The gateway never passes a REFER on. */
    refer: z.enum(['honour', 'refuse']).default('refuse'),
    /** Register to the trunk with username/password (RFC 3261 §10), refreshing before expiry. */
    register: z.boolean().default(false),
    /** Requested registration lifetime in seconds (with register: true). */
    registerExpires: z.number().int().min(60).max(86400).default(600),
    /** Source addresses (IPs) allowed to send calls in from this trunk, besides the URI host's. */
    addresses: z.array(z.string().min(1)).default([]),
    /** SIP over TLS (uri with ;transport=tls or sips:): the server certificate is checked against `ca` (a PEM
     *  file, relative to the config file) instead of the system CAs; verify: false accepts any (tests only). */
    tls: trunkTlsSchema.optional(),
    /** OPTIONS keep-alive (on by default); false turns it off. State in /api/status trunks[].keepalive. */
    keepalive: z.union([z.literal(false), trunkKeepaliveSchema]).default({}),
    /** Late offer (RFC 3261 §13.2.1): our INVITE to this trunk has no SDP; its 2xx offers, our ACK answers. */
    lateOffer: z.boolean().default(false),
    /** DTMF toward this trunk when it negotiated no telephone-event: 'rfc4733' (default: nothing can carry
     *  it; events are relayed as they are) or 'info' (SIP INFO application/dtmf-relay, call/dtmf.ts). */
    dtmf: z.enum(['rfc4733', 'info']).default('rfc4733'),
    /** RFC 3325: a trusted trunk gets P-Asserted-Identity (and Privacy: id when the caller ID is withheld). */
    trusted: z.boolean().default(false),
    /** The carrier's number format: rewrite steps applied after the route's (config/dial-plan.ts). */
    rewrite: rewriteSchema.default([]),
    /** Inbound DID normalisation of the numbers this trunk sends (config/dial-plan.ts). */
    inbound: inboundSchema.optional(),
    /** Seconds without any response (not even 100 Trying) before the INVITE counts as timed out (408) and
     *  the call fails over; Timer B (32 s) still ends it sooner if shorter. */
    responseTimeout: z.number().min(1).max(64).default(10),
    /** Concurrent calls and calls per hour (config/dial-rules.ts); absent: no limit. */
    ...trunkPolicyFields,
  })
  .strict();

/** RFC 4028 session timers. interval: the Session-Expires we ask for and the most we grant (seconds);
 *  minSE: our Min-SE (smaller intervals get 422; RFC 4028 §4: never below 90); refresher: who refreshes
 *  when the peer leaves the choice to us (uas = the gateway); trunks: ask trunks and users' PBXs for timers
 *  on calls to them and run them on calls from them; users: the same toward users' phones and browsers
 *  (sip.js does no timers). A peer that asks for timers is honoured either way. */
export const sessionTimersSchema = z
  .object({
    interval: z.number().int().min(90).max(86400).default(1800),
    minSE: z.number().int().min(90).max(86400).default(90),
    refresher: z.enum(['uac', 'uas']).default('uas'),
    trunks: z.boolean().default(true),
    users: z.boolean().default(false),
  })
  .strict()
  .refine((t) => t.interval >= t.minSE, { message: 'interval must be at least minSE', path: ['interval'] })
  .default({});

export const routeSchema = z.union([
  trunkRouteSchema,
  z.object({ match: regex, echo: z.literal(true) }).strict(),
  z.object({ match: regex, user: z.string().min(1) }).strict(),
]);

/** RFC 7065 §3.1: turnURI = ("turn" / "turns") ":" host [ ":" port ] [ "?transport=" transport ];
 *  RFC 7064 §3.1: stunURI = "stun" ":" host [ ":" port ] (no transport). */
const iceServerUrl = z
  .string()
  .regex(
    /^(?:turns?:(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~-]+)(?::\d{1,5})?(?:\?transport=(?:udp|tcp))?|stun:(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~-]+)(?::\d{1,5})?)$/,
    'expected "turn:host[:port][?transport=udp|tcp]", "turns:…" or "stun:host[:port]"',
  )
  .refine((s) => Number(/:(\d{1,5})(?:\?|$)/.exec(s)?.[1] ?? 0) <= 65535, 'port must be 0-65535');

/** ICE servers handed to the page at sign-in, with short-lived credentials from `secret` (the TURN REST API
 *  scheme coturn implements with use-auth-secret / static-auth-secret). */
export const turnSchema = z
  .object({
    urls: z.array(iceServerUrl).min(1),
    secret: z.string().min(1),
    /** Seconds a handed-out credential stays valid. */
    ttl: z.number().int().min(60).max(86400).default(3600),
  })
  .strict();

/** PEM files for HTTPS/WSS (the page and /sip) and SIP over TLS. */
export const tlsSchema = z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict();

/** Connection hygiene for inbound SIP over TCP/TLS/WS (gateway/sip/transport/limits.ts); times in seconds,
 *  0 turns a deadline or the WS rate off. */
export const sipLimitsSchema = z
  .object({
    maxConnections: z.number().int().min(1).default(4096),
    maxPerAddress: z.number().int().min(1).default(64),
    fdReserve: z.number().int().min(0).default(2048),
    firstMessageTimeout: z.number().min(0).max(600).default(10),
    messageTimeout: z.number().min(0).max(600).default(20),
    idleTimeout: z.number().min(0).max(86400).default(120),
    tlsHandshakeTimeout: z.number().min(0.1).max(600).default(10),
    wsMessagesPerSecond: z.number().min(0).default(50),
    wsBurst: z.number().int().min(1).default(100),
  })
  .strict();

export const configSchema = z
  .object({
    http: z
      .object({
        listen: hostPort.default('127.0.0.1:8080'),
        advertise: advertise('host or host:port').optional(),
        tls: tlsSchema.optional(),
        /** Origins whose pages may open /sip ("*": any); absent: the page's own (config/resolve.ts). */
        allowedOrigins: z.array(z.string().regex(/^(\*|https?:\/\/[^\s/]+)$/, 'expected an origin, e.g. "https://phone.example.com", or "*"')).min(1).optional(),
        /** TCP connections to the web server at once from one source IP (WebSockets included); 0: no cap. */
        maxConnectionsPerAddress: z.number().int().min(0).default(256),
      })
      .strict()
      .default({}),
    sip: z
      .object({
        listen: z.array(sipListenEntry).min(1).default(['udp:127.0.0.1:5060', 'tcp:127.0.0.1:5060']),
        /** Host advertised by every listening point without its own advertise (port: the bound one). */
        advertise: advertise('host').optional(),
        domain: z.string().min(1).optional(),
        realm: z.string().min(1).optional(),
        /** 'strict': responses never go to a Via maddr other than the source, nor over a new connection
         *  when the request's TCP/TLS connection closed (no reflection); 'rfc3261': RFC 3261 §18.2.2 as written. */
        responseRouting: z.enum(['strict', 'rfc3261']).default('strict'),
        /** Server transactions held at once, per kind (INVITE / non-INVITE); beyond it a new request gets
         *  503 with Retry-After (RFC 3261 §21.5.4). Challenges (401/407) never hold one. */
        maxServerTransactions: z.number().int().min(1).default(10000),
        /** SO_RCVBUF of each UDP socket, bytes (a flood's burst queues here instead of being dropped by the
         *  kernel); Linux caps it at net.core.rmem_max (a warning says so). 0: the OS default. */
        udpReceiveBuffer: z.number().int().min(0).max(1 << 30).default(4 * 1024 * 1024),
        /** Overload control (RFC 3261 §21.5.4): while the event loop lags more than lagMs ms (sustained over
         *  two 0.5 s windows), new out-of-dialog INVITEs and REGISTERs get 503 with Retry-After: retryAfter
         *  seconds; calls already up keep their signalling. lagMs 0: off. */
        overload: z
          .object({ lagMs: z.number().int().min(0).max(60_000).default(200), retryAfter: z.number().int().min(1).max(3600).default(5) })
          .strict()
          .default({}),
        limits: sipLimitsSchema.default({}),
      })
      .strict()
      .default({}),
    media: z
      .object({
        rtpPorts: portRange.default('20000-20999'),
        address: z.string().min(1).default('127.0.0.1'),
        advertiseAddress: z
          .string()
          .min(1)
          .refine((s) => !isWildcard(s), 'a wildcard (0.0.0.0, ::) cannot be advertised: name the address peers reach')
          .optional(),
        /** RTP Bleed protection on plain RTP legs: accept media only from the SDP address or the
         *  peer's SIP source, latched by the first packet; false = re-latch to any source (symmetric RTP). */
        strictSource: z.boolean().default(true),
        /** ICE-TCP (RFC 6544): browser legs also listen on TCP on their RTP port and offer a passive TCP
         *  candidate, so a browser whose network blocks UDP connects without TURN. Default true with the
         *  embedded engine (resolved where the engine is made); rtpengine cannot: true is refused there. */
        iceTcp: z.boolean().optional(),
        /** Which media engine relays calls: the embedded one, or an external rtpengine. */
        engine: z.enum(['embedded', 'rtpengine']).default('embedded'),
        /** rtpengine's ng control socket, "host:port" (required with engine: rtpengine). */
        rtpengine: hostPort.optional(),
        /** With engine: rtpengine, offers/answers carry ng `inject DTMF` so SIP INFO digits are played as RFC 4733
         *  events (ng `play DTMF`); rtpengine then decodes and re-encodes the audio. Default false. */
        rtpengineInjectDtmf: z.boolean().default(false),
        /** Seconds without RTP or RTCP from a leg's peer (on hold: without RTCP) after which the call ends
         *  with BYE + Reason "Media timeout" on both legs (rtpengine's --timeout). 0: off. */
        inactivityTimeout: z.number().int().min(0).max(3600).default(60),
        /** RTCP on each leg (embedded engine): 'generate' — the gateway sends its own SR/RR to each peer about
         *  what it sent to and received from that peer (RFC 3550 §6.2 interval, randomised, 5 s minimum) and
         *  reads theirs; 'relay' — RTCP passes from leg to leg as it came. */
        rtcp: z.enum(['generate', 'relay']).default('generate'),
        /** Embedded engine threads: 'auto' = one per core (fewer when rtpPorts gives a worker under 50 ports),
         *  0 = in the gateway's own thread, n = n worker threads; rtpPorts is split between them. */
        workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
        /** Admission control of the embedded engine (media/admission.ts): while an engine thread's event loop
         *  is busy more than maxUtilization of the time or its delay p99 passes maxDelayMs (two 0.5 s windows
         *  running), new calls get 503 with Retry-After: retryAfter seconds; calls already up go on. */
        admission: z
          .object({
            enabled: z.boolean().default(true),
            maxUtilization: z.number().gt(0).max(1).default(0.9),
            maxDelayMs: z.number().int().min(1).max(10_000).default(50),
            retryAfter: z.number().int().min(1).max(3600).default(5),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    registrar: z
      .object({
        /** File where UDP/TCP registrations are kept across restarts (WebSocket ones die with their
         *  connection). Relative paths are relative to the config file. Absent: memory only. */
        store: z.string().min(1).optional(),
        minExpires: z.number().int().min(1).default(60),
        maxExpires: z.number().int().min(60).default(3600),
      })
      .strict()
      .default({}),
    users: z.array(userSchema).default([]),
    trunks: z.array(trunkSchema).default([]),
    routes: z.array(routeSchema).default([]),
    calls: z
      .object({
        /** Seconds a call may ring before the gateway gives up (480 / CANCEL). */
        ringTimeout: z.number().int().min(5).max(600).default(60),
        /** Seconds an answered call is kept after a side's connection (a browser's WebSocket) closed, for
         *  it to reconnect and re-INVITE the same dialog; then BYE with Reason "Connection lost". 0: at
         *  once. Below the web page's own 60 s recovery limit. */
        reconnectGrace: z.number().int().min(0).max(55).default(30),
        /** RFC 4028 session timers (gateway/call/session-timers.ts), each leg on its own. */
        sessionTimers: sessionTimersSchema,
        /** Seconds an answered call may last, then BYE on both legs (gateway/policy); 0: no limit. */
        maxDuration: maxDurationField,
      })
      .strict()
      .default({}),
    turn: turnSchema.optional(),
    security: securitySchema,
    dialRules: dialRulesSchema,
    log: logSchema,
    /** Call detail records and the operator endpoints' token (config/ops.ts). */
    cdr: cdrSchema,
    api: apiSchema,
    /** SIGTERM: seconds the graceful stop may take (503 to new requests, BYE with a Reason to calls up,
     *  unregister, CDR flush) before the process exits anyway; below docker-compose's stop_grace_period. */
    shutdown: z.object({ grace: z.number().min(1).max(600).default(12) }).strict().default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const trunkNames = new Set(cfg.trunks.map((t) => t.name));
    const userNames = new Set(cfg.users.map((u) => u.name));
    cfg.routes.forEach((r, i) => {
      if ('trunk' in r && r.trunk !== undefined && !trunkNames.has(r.trunk)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'trunk'], message: `no trunk named "${r.trunk}" in trunks` });
      }
      if ('trunks' in r) {
        r.trunks?.forEach((t, j) => {
          const name = typeof t === 'string' ? t : t.name;
          if (!trunkNames.has(name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'trunks', j], message: `no trunk named "${name}" in trunks` });
        });
      }
      if ('user' in r && !userNames.has(r.user)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'user'], message: `no user named "${r.user}" in users` });
      }
    });
    if (cfg.media.engine === 'rtpengine' && !cfg.media.rtpengine) {
      ctx.addIssue({ code: 'custom', path: ['media', 'rtpengine'], message: 'required with media.engine: rtpengine (its ng socket, e.g. "127.0.0.1:2223")' });
    }
    mediaWorkersIssue(cfg.media, ctx);
    if (cfg.media.engine === 'rtpengine' && cfg.media.iceTcp === true) {
      ctx.addIssue({ code: 'custom', path: ['media', 'iceTcp'], message: 'ICE-TCP is offered by the embedded media engine only: remove it (or set false) with media.engine: rtpengine' });
    }
    if (cfg.registrar.maxExpires < cfg.registrar.minExpires) {
      ctx.addIssue({ code: 'custom', path: ['registrar', 'maxExpires'], message: `must be at least registrar.minExpires (${cfg.registrar.minExpires})` });
    }
    const dids = new Map<string, string>();
    cfg.users.forEach((u, i) => {
      u.dids.forEach((d, j) => {
        const owner = dids.get(d);
        if (owner) ctx.addIssue({ code: 'custom', path: ['users', i, 'dids', j], message: `DID ${d} already belongs to "${owner}"` });
        dids.set(d, u.name);
      });
    });
    cfg.trunks.forEach((t, i) => {
      if (t.register && !(t.username && t.password)) {
        ctx.addIssue({ code: 'custom', path: ['trunks', i, 'register'], message: 'register: true needs username and password' });
      }
    });
    cfg.sip.listen.forEach((l, i) => {
      if ((typeof l === 'string' ? l : l.listen).startsWith('tls:') && !cfg.http.tls) {
        ctx.addIssue({ code: 'custom', path: ['sip', 'listen', i], message: 'a tls listening point needs http.tls (its certificate and key)' });
      }
    });
    for (const issue of securityIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of dialRulesIssues(cfg)) ctx.addIssue({ code: 'custom', ...issue });
    const seen = new Set<string>();
    cfg.users.forEach((u, i) => {
      if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${u.name}"` });
      seen.add(u.name);
    });
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type UserConfig = z.infer<typeof userSchema>;
export type TrunkConfig = z.infer<typeof trunkSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type TlsConfig = z.infer<typeof tlsSchema>;
export type SipListenEntry = z.infer<typeof sipListenEntry>;
export type TurnConfig = z.infer<typeof turnSchema>;
export type { PasswordConfig, SecurityConfig } from './security.js';
