// The SIP service: UA core, registrar and outbound B2BUA on top of the transaction layer.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/types.js';
import { createRegistrar } from '../registrar/index.js';
import type { RouteResult } from '../routing/index.js';
import { createDigestServer } from '../sip/auth/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport } from '../sip/transport/types.js';
import { realmOf } from '../sip/ua/credentials.js';
import { reply } from '../sip/ua/uas.js';
import { Call } from './call.js';
import { CallTable, dispatchRequest } from './dispatch.js';
import { DialogRegistry } from './registry.js';

export { Call } from './call.js';
export { CallTable, dialledOf } from './dispatch.js';

export interface SipServiceDeps {
  config: GatewayConfig;
  transport: SipTransport;
  transactions: TransactionLayer;
  media: MediaEngine;
  logger: Logger;
}

export interface SipService {
  close(): Promise<void>;
  status(): { registrations: number; calls: number };
}

export function startSipService(deps: SipServiceDeps): SipService {
  const { config, transactions, logger } = deps;
  // RFC 8760 §2.4: one challenge per algorithm, most preferred first — SHA-256, then MD5. The order also
  // suits sip.js 0.21, whose parser keeps only the LAST challenge header and whose digest is MD5-only.
  const digest = createDigestServer({ realm: realmOf(config), algorithms: ['SHA-256', 'MD5'] });
  const registrar = createRegistrar({ config, digest, logger: logger.child({ component: 'registrar' }) });
  const registry = new DialogRegistry();
  const calls = new CallTable();
  const callCtx = { ...deps, registry };
  let closed = false;

  function startCall(_req: SipRequest, tx: ServerTransaction, user: UserConfig, r: RouteResult): void {
    const call = new Call(callCtx, tx, user, (c) => calls.remove(c));
    calls.add(call);
    const started = r.kind === 'trunk' ? call.startTrunk(r.trunk, r.number) : r.kind === 'echo' ? call.startEcho() : Promise.resolve(call.end({ status: 404, reason: 'No Route' }));
    started.catch((err: Error) => {
      call.log.error({ err: err.message }, 'call setup failed');
      call.end();
    });
  }

  const dispatch = { config, digest, registrar, registry, calls, logger, startCall };
  transactions.onRequest((req, tx, matchingInvite) => {
    if (closed) return reply(tx, 503, 'Service Unavailable');
    try {
      dispatchRequest(dispatch, req, tx, matchingInvite);
    } catch (err) {
      // Bad input never crashes: a header the parser let through but we cannot use gets a 400 naming it.
      logger.warn({ err: (err as Error).message, method: req.method }, 'request rejected');
      if (tx.state === 'proceeding' || tx.state === 'trying') reply(tx, 400, `Bad Request: ${(err as Error).message}`.slice(0, 120));
    }
  });
  transactions.onAck((ack, flow) => {
    if (!closed) registry.forRequest(ack)?.onAck(ack, flow);
  });
  transactions.onStrayResponse((res) => {
    if (!closed) registry.forResponse(res)?.onStrayResponse(res);
  });

  return {
    async close() {
      if (closed) return;
      for (const call of calls.all()) call.end({ status: 503, reason: 'Service Unavailable' });
      closed = true;
      registrar.close();
    },
    status: () => ({ registrations: registrar.count(), calls: calls.size }),
  };
}
