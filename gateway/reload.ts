// Applying a reload to a running gateway (SIGHUP in main.ts; tests call gateway.reload(config)).
// What may change is decided in config/reload.ts; here the TLS files are read and checked BEFORE anything
// is replaced, so an unreadable or mismatched certificate refuses the whole reload and the old one stays.
import https from 'node:https';
import type { LiveConfig } from './config/live.js';
import { planReload } from './config/reload.js';
import type { GatewayConfig } from './config/schema.js';
import { loadServerCredentials } from './http/tls.js';
import type { WebServer } from './http/server.js';
import type { Logger } from './log.js';
import type { SipTransport } from './sip/transport/types.js';

export interface ReloadResult {
  /** Top-level keys whose new value runs now (users, routes, trunks, dialRules, http.tls). */
  changed: string[];
  /** Changes not applied or only partly (each names its key); also logged at warn. */
  warnings: string[];
}

export interface ReloadTargets {
  live: LiveConfig;
  logger: Logger;
  /** Present once started: they get the renewed certificate. */
  server?: WebServer;
  transport?: SipTransport;
}

/** Throws (TlsConfigError naming http.tls.cert/key and the file) and changes nothing when refused. */
export function reloadGateway(t: ReloadTargets, next: GatewayConfig): ReloadResult {
  const plan = planReload(t.live.get(), next);
  const tls = plan.config.http.tls;
  const credentials = tls ? loadServerCredentials(tls) : undefined;
  t.live.replace(plan.config);
  if (credentials) {
    // Node: a server's setSecureContext applies to every later handshake; connections up keep theirs.
    if (t.server instanceof https.Server) t.server.setSecureContext({ cert: credentials.cert, key: credentials.key, minVersion: 'TLSv1.2' });
    t.transport?.setTlsCredentials?.(credentials);
  }
  for (const w of plan.warnings) t.logger.warn(`config reload: ${w}`);
  const c = plan.config;
  t.logger.info({ changed: plan.changed, users: c.users.length, trunks: c.trunks.length, routes: c.routes.length }, 'config reloaded');
  return { changed: plan.changed, warnings: plan.warnings };
}
