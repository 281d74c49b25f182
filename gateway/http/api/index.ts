// The HTTP API under /api/ (README "HTTP API", OpenAPI document at /api/openapi.json): status, calls
// (list, detail with live media figures, hang up, click-to-call), registrations, trunks, and the CDRs when
// gateway/cdr gives its handler. Every operator endpoint takes `Authorization: Bearer <api.token>`; with no
// token configured, loopback clients only (../access.ts, the same check as /metrics). GET /api/status is
// open to anyone but shows identifying details (user names, PBX accounts, trunk URIs) only to those.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Call, SipService } from '../../call/index.js';
import { callQuality } from '../../call/quality.js';
import type { GatewayConfig } from '../../config/schema.js';
import { packageRoot } from '../../lib/root.js';
import type { Logger } from '../../log.js';
import type { MediaEngine } from '../../media/types.js';
import { operatorAccess } from '../access.js';
import { CallBook } from './book.js';
import { openApiDocument } from './openapi.js';
import { myCallsHandler } from './me.js';
import { clickToCallBody, describeIssue } from './schemas.js';
import { callSummary, publicStatus, registrationView, trunkView } from './views.js';

/** RFC 3326 Reason on both legs' BYE (or CANCEL) of a call ended through DELETE /api/calls/{id};
 *  Q.850 cause 16 is "normal call clearing". */
export const REASON_OPERATOR = 'Q.850;cause=16;text="Ended by operator"';

export interface OperatorApiDeps {
  /** The live config (api.token, trunks[].uri are read per request: a reload may change them). */
  config: GatewayConfig;
  logger: Logger;
  /** The full status (app.ts). */
  status(): Record<string, unknown>;
  /** The SIP service and media engine once started. */
  service(): SipService | undefined;
  media(): MediaEngine | undefined;
  /** Default: package.json's. */
  version?: string;
  /** GET /api/cdrs (gateway/cdr): served here behind the same check, and documented. */
  cdrs?: RequestHandler;
  /** GET /api/me/calls signs users in with this (the lockout-wrapped check of GET /api/ice-servers, me.ts). */
  checkPassword?: (user: string, password: string, source: string) => boolean;
  now?: () => number;
}

export interface OperatorApi {
  router: Router;
  /** Told of every call (pass to startSipService's observers): what GET /api/calls lists. */
  book: CallBook;
}

const sendError = (res: Response, status: number, error: string, extra: Record<string, unknown> = {}): void => void res.status(status).json({ error, ...extra });

/** The gateway's version (package.json). */
export function gatewayVersion(): string {
  try {
    return String((JSON.parse(readFileSync(path.join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0');
  } catch {
    return '0';
  }
}

export function createOperatorApi(deps: OperatorApiDeps): OperatorApi {
  const now = deps.now ?? Date.now;
  const version = deps.version ?? gatewayVersion();
  const started = now();
  const book = new CallBook(now);
  const router = express.Router();
  const refusal = (req: Request): ReturnType<typeof operatorAccess> => operatorAccess(deps.config.api.token, req.socket.remoteAddress, req.headers.authorization);
  const guard: RequestHandler = (req, res, next) => {
    const refused = refusal(req);
    if (!refused) return next();
    // RFC 6750 §3: a request without (valid) credentials gets the Bearer challenge.
    if (refused.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="webphone-gateway"');
    sendError(res, refused.status, refused.text);
  };
  const uptime = (): number => Math.round((now() - started) / 1000);

  router.get('/status', (req, res) => {
    const full = deps.status();
    const pub = publicStatus(full, version, uptime());
    if (refusal(req)) return void res.json(pub);
    res.json({ ...full, ...pub, trunks: full.trunks ?? [], trunkCount: pub.trunks });
  });
  router.get('/openapi.json', (_req, res) => void res.json(openApiDocument({ version, cdrs: deps.cdrs !== undefined })));
  router.get('/calls', guard, (_req, res) => void res.json(book.list().map((b) => callSummary(b, now()))));
  router.post('/calls', guard, express.json({ limit: '4kb', type: () => true }), (req, res) => clickToCall(deps, req, res));
  router.get('/calls/:id', guard, (req, res, next) => void callDetail(deps, book, String(req.params.id), now(), res).catch(next));
  router.delete('/calls/:id', guard, (req, res) => {
    const entry = book.get(String(req.params.id));
    if (!entry) return sendError(res, 404, `no call ${req.params.id} in progress`);
    deps.logger.info({ call: entry.call.id }, 'call ended by operator (HTTP API)');
    entry.call.end(undefined, REASON_OPERATOR, 'gateway');
    res.status(204).end();
  });
  router.get('/registrations', guard, (_req, res) => void res.json((deps.service()?.registrations?.() ?? []).map((b) => registrationView(b, now()))));
  router.get('/trunks', guard, (_req, res) => {
    const trunks = Array.isArray(deps.status().trunks) ? (deps.status().trunks as Record<string, unknown>[]) : [];
    res.json(trunks.map((t) => trunkView(t, deps.config.trunks.find((c) => c.name === t.name)?.uri)));
  });
  if (deps.cdrs) router.get('/cdrs', guard, deps.cdrs);
  // The signed-in user's own calls with the gateway's figures (me.ts): the user's credentials, not the token.
  router.get('/me/calls', myCallsHandler({ ...deps, calls: () => book.list(), now }));
  router.use(apiErrors(deps.logger));
  return { router, book };
}

/** POST /api/calls: validated, then the SIP service's click-to-call (call/click-to-call.ts). */
function clickToCall(deps: OperatorApiDeps, req: Request, res: Response): void {
  const parsed = clickToCallBody.safeParse(req.body);
  if (!parsed.success) return sendError(res, 400, describeIssue(parsed.error));
  const service = deps.service();
  if (!service?.clickToCall) return sendError(res, 503, 'the gateway is not running');
  const result = service.clickToCall(parsed.data.user, parsed.data.number);
  if (!result.ok) {
    deps.logger.info({ user: parsed.data.user, number: parsed.data.number, status: result.status, error: result.error }, 'click-to-call refused');
    return sendError(res, result.status, result.error, result.rule === undefined ? {} : { rule: result.rule });
  }
  deps.logger.info({ user: parsed.data.user, number: parsed.data.number, call: result.id }, 'click-to-call: started (HTTP API)');
  const href = `/api/calls/${result.id}`;
  res.status(202).location(href).json({ id: result.id, href });
}

async function callDetail(deps: OperatorApiDeps, book: CallBook, id: string, at: number, res: Response): Promise<void> {
  const entry = book.get(id);
  if (!entry) return sendError(res, 404, `no call ${id} in progress`);
  const call: Call = entry.call;
  const key = call.session?.media.key ?? call.id;
  const engine = deps.media();
  const packets = engine?.stats(key)?.legs;
  // Live quality per side from RTCP where the engine reports it (call/quality.ts); left out otherwise.
  const quality = engine ? await callQuality(call, engine).catch(() => undefined) : undefined;
  res.json({
    ...callSummary(entry, at),
    parties: partiesOf(call),
    media: { key, ...(packets && { packets }), ...(quality && { quality }) },
  });
}

function partiesOf(call: Call): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const side of ['caller', 'callee'] as const) {
    const p = call.parties[side];
    if (p) out[side] = p.kind === 'user' ? { kind: 'user', user: p.user.name } : { kind: 'trunk', trunk: p.trunk.name };
  }
  return out;
}

/** Errors as JSON {error}: a body that is not JSON (or too large) is the client's 400/413, never a crash. */
function apiErrors(logger: Logger) {
  return (err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction): void => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err: err.message }, 'HTTP API handler failed');
    const message = err.type === 'entity.parse.failed' ? 'body: not valid JSON' : err.type === 'entity.too.large' ? 'body: too large' : status === 500 ? 'internal error' : (err.message ?? 'bad request');
    sendError(res, status, message);
  };
}
