// Prometheus metrics (README "Operations" → Metrics), served at GET /metrics in the text format
// (prom-client). One registry per gateway (tests run several in one process); process and Node.js
// metrics (resident memory, heap, event-loop lag, GC) come from prom-client's defaults. No label
// holds a call, a user or a peer's text: methods, codes and trunks are bounded (labels.ts).
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { Request, Response } from 'express';
import type { GatewayConfig } from '../config/schema.js';
import type { MediaEngine } from '../media/types.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport } from '../sip/transport/types.js';
import { CallMetrics } from './calls.js';
import { methodLabel } from './labels.js';
import { mediaLoadMetrics } from './media-load.js';
import { observeTransactions, observeTransport, type SipCounters } from './sip.js';
import { statusMetrics, type StatusSource } from './status.js';

export interface Metrics {
  readonly registry: Registry;
  /** The CallObserver of the call metrics (SipServiceDeps.observers). */
  readonly calls: CallMetrics;
  observeTransport(t: SipTransport): SipTransport;
  observeTransactions(l: TransactionLayer): TransactionLayer;
  /** Security events (gateway/security): a failed authentication, a source banned. */
  authFailed(method: string, reason: string): void;
  banned(): void;
  /** Where scrape-time figures come from, once the gateway runs. */
  attach(parts: { media?: MediaEngine; service?: StatusSource }): void;
  /** GET /metrics. */
  handler(req: Request, res: Response): void;
}

const AUTH_REASONS = new Set(['wrong-password', 'unknown-user', 'bad-nonce', 'locked']);

export function createMetrics(config: GatewayConfig): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const trunks = new Set(config.trunks.map((t) => t.name));
  let media: MediaEngine | undefined;
  let service: StatusSource | undefined;
  const sip: SipCounters = {
    requests: new Counter({ name: 'webphone_sip_requests_total', help: 'SIP requests received (in) and sent (out), retransmissions included, by method', labelNames: ['direction', 'method'], registers }),
    responses: new Counter({ name: 'webphone_sip_responses_total', help: 'SIP responses received (in) and sent (out), by the method they answer and status code', labelNames: ['direction', 'method', 'code'], registers }),
    retransmissions: new Counter({ name: 'webphone_sip_retransmissions_total', help: 'SIP requests and responses the gateway sent again (timers A/E/G, 2xx until ACK)', labelNames: ['kind', 'method'], registers }),
    timeouts: new Counter({ name: 'webphone_sip_transaction_timeouts_total', help: 'Client transactions with no final response (Timer B / F)', labelNames: ['method'], registers }),
    transportErrors: new Counter({ name: 'webphone_sip_transport_errors_total', help: 'Client transactions failed by the transport', labelNames: ['method'], registers }),
  };
  const auth = new Counter({ name: 'webphone_auth_failures_total', help: 'Failed authentications (SIP digest and the page sign-in), by method and reason', labelNames: ['method', 'reason'], registers });
  const bans = new Counter({ name: 'webphone_bans_total', help: 'Sources banned for their request rate (security.rateLimit)', registers });
  const calls = new CallMetrics(registry, trunks, () => media);
  statusMetrics(registry, () => service, trunks);
  mediaLoadMetrics(registry, config, () => media);
  return {
    registry,
    calls,
    observeTransport: (t) => observeTransport(t, sip),
    observeTransactions: (l) => observeTransactions(l, sip),
    authFailed: (method, reason) => auth.inc({ method: method === 'HTTP' ? 'HTTP' : methodLabel(method), reason: AUTH_REASONS.has(reason) ? reason : 'other' }),
    banned: () => bans.inc(),
    attach(parts) {
      media = parts.media ?? media;
      service = parts.service ?? service;
    },
    handler(_req, res) {
      registry.metrics().then(
        (text) => res.type(registry.contentType).send(text),
        (err: Error) => res.status(500).type('text/plain').send(`metrics failed: ${err.message}`),
      );
    },
  };
}
