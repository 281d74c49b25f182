// SIP message and transaction counters, observed from outside the SIP layers: the transport the
// transaction layer and the UA send through is wrapped (every message in and out, a message object sent
// again is a retransmission), and the transaction layer's client handlers are wrapped (Timer B/F
// timeouts, transport errors). gateway/sip imports nothing of this.
import type { Counter } from 'prom-client';
import { getHeader } from '../sip/message/index.js';
import type { SipMessage } from '../sip/message/types.js';
import type { TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport } from '../sip/transport/types.js';
import { codeLabel, methodLabel } from './labels.js';

export interface SipCounters {
  requests: Counter<'direction' | 'method'>;
  responses: Counter<'direction' | 'method' | 'code'>;
  retransmissions: Counter<'kind' | 'method'>;
  timeouts: Counter<'method'>;
  transportErrors: Counter<'method'>;
}

/** The CSeq method of a response (which request it answers). */
function cseqMethod(m: SipMessage): string | undefined {
  return getHeader(m, 'CSeq')?.trim().split(/\s+/)[1];
}

/** Delegates everything to `target` but the keys of `overrides` (methods bound to the target once). */
function delegate<T extends object>(target: T, overrides: Partial<T>): T {
  const bound = new Map<PropertyKey, { fn: unknown; bound: unknown }>();
  return new Proxy(target, {
    get(t, key) {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return (overrides as Record<PropertyKey, unknown>)[key];
      const v = Reflect.get(t, key, t) as unknown;
      if (typeof v !== 'function') return v;
      const cached = bound.get(key);
      if (cached?.fn === v) return cached.bound;
      const b = (v as (...a: unknown[]) => unknown).bind(t);
      bound.set(key, { fn: v, bound: b });
      return b;
    },
  });
}

export function observeTransport(transport: SipTransport, c: SipCounters): SipTransport {
  const sent = new WeakSet<SipMessage>();
  const count = (m: SipMessage, direction: 'in' | 'out'): void => {
    if (m.kind === 'request') c.requests.inc({ direction, method: methodLabel(m.method) });
    else c.responses.inc({ direction, method: methodLabel(cseqMethod(m)), code: codeLabel(m.status) });
  };
  const out = (m: SipMessage): void => {
    if (sent.has(m)) c.retransmissions.inc({ kind: m.kind, method: methodLabel(m.kind === 'request' ? m.method : cseqMethod(m)) });
    else sent.add(m);
    count(m, 'out');
  };
  return delegate(transport, {
    send: (message, dest) => (out(message), transport.send(message, dest)),
    sendResponse: (response, flow) => (out(response), transport.sendResponse(response, flow)),
    onMessage: (handler) => transport.onMessage((message, flow) => (count(message, 'in'), handler(message, flow))),
  });
}

export function observeTransactions(layer: TransactionLayer, c: SipCounters): TransactionLayer {
  return delegate(layer, {
    sendRequest: (request, dest, handlers) => {
      const method = methodLabel(request.method);
      return layer.sendRequest(request, dest, {
        onResponse: (r) => handlers.onResponse(r),
        onTimeout: () => (c.timeouts.inc({ method }), handlers.onTimeout()),
        onTransportError: (err) => (c.transportErrors.inc({ method }), handlers.onTransportError(err)),
      });
    },
  });
}
