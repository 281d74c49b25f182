// Who may start a call, before any digest: an INVITE from a user's own PBX (it arrives on the Contact we
// registered there) or from a trunk's address rings the user its number maps to; an INVITE to a DID from
// anywhere else is refused. Everything else is a user's own call, authenticated by digest (authorize.ts).
// Pure apart from the ACL and upstream lookups it is given.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import { didOwner, inboundUser } from '../routing/index.js';
import { getHeader } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { Flow } from '../sip/transport/types.js';
import type { InboundCaller } from './ring.js';
import type { TrunkAcl } from './trunk-acl.js';

/** What admission needs from the upstream registrations (gateway/upstream). */
export interface InboundMatcher {
  matchInbound(req: SipRequest, flow: Flow): { user: UserConfig } | undefined;
  isTrunkContact(req: SipRequest): boolean;
}

export interface AdmissionDeps {
  config: Pick<GatewayConfig, 'routes' | 'users'>;
  acl: Pick<TrunkAcl, 'trunkFor'>;
  upstream?: InboundMatcher;
}

export type Admission =
  | { kind: 'ring'; callee: UserConfig; caller: InboundCaller }
  | { kind: 'reject'; status: number; reason: string }
  | { kind: 'authenticate' };

/** Does the request carry credentials (RFC 3261 §22.3)? A trunk never sends ours. */
function hasCredentials(req: SipRequest): boolean {
  return getHeader(req, 'Proxy-Authorization') !== undefined;
}

const isWebSocket = (flow: Flow): boolean => flow.transport === 'ws' || flow.transport === 'wss';

export function admitInvite(d: AdmissionDeps, req: SipRequest, flow: Flow, dialled: string): Admission {
  const pbx = d.upstream?.matchInbound(req, flow);
  if (pbx) return { kind: 'ring', callee: pbx.user, caller: { kind: 'network', source: `pbx of ${pbx.user.name}` } };
  // The packet's source IP decides, never a header (a From or Via can say anything).
  const trunk = d.acl.trunkFor(flow);
  if (trunk) {
    const callee = inboundUser(dialled, d.config, trunk.inbound);
    if (callee) return { kind: 'ring', callee, caller: { kind: 'network', source: `trunk ${trunk.name}` } };
    // A trunk never authenticates to us: an unknown number from it is simply not here.
    if (!hasCredentials(req)) return { kind: 'reject', status: 404, reason: 'Not Found' };
    return { kind: 'authenticate' };
  }
  // A DID called from an address that is no trunk: refused outright (no challenge a scanner could
  // probe further). Browsers (WebSocket) and requests already carrying credentials are users' own
  // calls and go through digest like any other.
  if (didOwner(dialled, d.config) && !hasCredentials(req) && !isWebSocket(flow)) {
    return { kind: 'reject', status: 403, reason: 'Forbidden' };
  }
  return { kind: 'authenticate' };
}
