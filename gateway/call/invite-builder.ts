// The INVITE the gateway sends to one registered contact of a called user (one fork of an inbound or
// user-to-user call). Pure.
import type { ContactRoute } from '../registrar/index.js';
import { formatNameAddr } from '../sip/message/index.js';
import type { NameAddr, SipRequest } from '../sip/message/types.js';
import type { Address, Flow, Target } from '../sip/transport/types.js';
import { buildRequest, localContact, type ViaSpec } from '../sip/ua/request.js';
import { INVITE_ALLOW } from '../sip/ua/uas.js';

/** Who the callee's phone shows as calling: display name and user part. */
export interface CallerId {
  display?: string;
  user: string;
}

export interface ForkInviteSpec {
  contact: ContactRoute;
  /** The called user's AOR: sip:<user>@<domain>. */
  callee: string;
  domain: string;
  caller: CallerId;
  /** Undefined: a late-offer INVITE without a body (the caller sent no offer, call/late-offer.ts). */
  sdp?: string;
  via: ViaSpec;
  /** The caller's INVITE's Max-Forwards less one (sip/ua forwardedMaxForwards). */
  maxForwards?: number;
}

/** Where a contact is reached: the connection it registered on (RFC 7118 §5 for WebSockets, RFC 5626
 *  flows), else its UDP/TCP address. */
export function contactDest(c: ContactRoute): Flow | Target | undefined {
  return c.flow?.alive ? c.flow : c.target;
}

/** Our Via for a contact: the flow's own transport and advertised address (Flow.sentBy, never its possibly
 *  wildcard or private bound address), or our listening address for the target's transport (undefined
 *  when we do not listen on it). */
export function contactVia(c: ContactRoute, localAddress: (kind: Target['transport'], toward: string) => Address | undefined): ViaSpec | undefined {
  if (c.flow?.alive) return { transport: c.flow.transport, sentBy: c.flow.sentBy };
  if (!c.target) return undefined;
  const sentBy = localAddress(c.target.transport, c.target.address);
  return sentBy && { transport: c.target.transport, sentBy };
}

/** RFC 3261 §8.1.1 INVITE to the contact: Request-URI = the registered Contact (§16.5), To = the
 *  user's AOR, From = the caller ID (display name and user part) at our domain with our own tag. */
export function buildForkInvite(spec: ForkInviteSpec): SipRequest {
  const from: NameAddr = {
    displayName: spec.caller.display,
    uri: { scheme: 'sip', user: spec.caller.user, host: spec.domain, params: {}, headers: {} },
    params: {},
  };
  const to: NameAddr = { uri: { scheme: 'sip', user: spec.callee, host: spec.domain, params: {}, headers: {} }, params: {} };
  return buildRequest({
    method: 'INVITE',
    uri: spec.contact.contactText,
    from,
    to,
    cseq: 1,
    via: spec.via,
    contact: localContact(spec.via),
    maxForwards: spec.maxForwards,
    headers: [
      { name: 'Allow', value: INVITE_ALLOW },
      // RFC 3325 §9.1: the identity this gateway vouches for (the trunk's caller, or the authenticated user).
      { name: 'P-Asserted-Identity', value: formatNameAddr(from) },
    ],
    ...(spec.sdp === undefined ? {} : { body: Buffer.from(spec.sdp), contentType: 'application/sdp' }),
  });
}
