// The INVITE of an outbound call: to a trunk (its URI and credentials) or through a user's own PBX
// (the upstream account's identity and credentials). The callee side sending it is a DialCallee (dial.ts) with an InviteClient.
import type { TrunkConfig } from '../config/schema.js';
import { parseUri } from '../sip/message/index.js';
import type { HeaderField, NameAddr, SipRequest, SipUri } from '../sip/message/types.js';
import type { Target } from '../sip/transport/types.js';
import { buildRequest, localContact, type ViaSpec } from '../sip/ua/request.js';
import type { Credentials } from '../sip/ua/invite-client.js';
import { INVITE_ALLOW } from '../sip/ua/uas.js';

/** Where an outbound call goes and as whom. */
export interface OutboundRoute {
  /** Request-URI host (and port/params): the trunk URI, or the PBX registrar URI. */
  base: SipUri;
  /** Our From URI (without tag). */
  from: SipUri;
  target: Target;
  credentials?: Credentials;
  /** Our From's display name ("Anonymous" when the caller ID is withheld, caller-id.ts). */
  fromDisplay?: string;
  /** Extra header fields of the INVITE (P-Asserted-Identity, Privacy: caller-id.ts). */
  headers?: HeaderField[];
}

/** `sip:<number>@<trunk host:port>` keeping the trunk URI's parameters (e.g. transport). */
export function trunkRequestUri(trunk: SipUri, number: string): SipUri {
  return { ...trunk, user: number, password: undefined, headers: {} };
}

/** Trunk calls: From is the user's configured callerId at the trunk host (never what the browser
 *  claims); credentials are the trunk's. */
export function trunkRoute(trunk: TrunkConfig, callerId: string, target: Target): OutboundRoute {
  const base = parseUri(trunk.uri);
  const from: SipUri = { scheme: 'sip', user: callerId, host: base.host, params: {}, headers: {} };
  const credentials = trunk.username !== undefined && trunk.password !== undefined ? { username: trunk.username, password: trunk.password } : undefined;
  return { base, from, target, credentials };
}

/** `maxForwards`: the browser's INVITE's, less one (sip/ua forwardedMaxForwards). `sdp` undefined: a
 *  late-offer INVITE without a body (RFC 3261 §13.2.1; the 2xx then carries the offer). */
export function buildOutboundInvite(route: OutboundRoute, number: string, sdp: string | undefined, via: ViaSpec, maxForwards?: number): SipRequest {
  const to: SipUri = { scheme: 'sip', user: number, host: route.base.host, port: route.base.port, params: {}, headers: {} };
  const from: NameAddr = { displayName: route.fromDisplay, uri: route.from, params: {} };
  return buildRequest({
    method: 'INVITE',
    uri: trunkRequestUri(route.base, number),
    from,
    to: { uri: to, params: {} },
    cseq: 1,
    via,
    contact: localContact(via),
    maxForwards,
    // RFC 3262 (100rel): our Supported lets a trunk send its early media (183 + SDP) reliably.
    headers: [{ name: 'Allow', value: INVITE_ALLOW }, { name: 'Supported', value: '100rel' }, ...(route.headers ?? [])],
    ...(sdp === undefined ? {} : { body: Buffer.from(sdp), contentType: 'application/sdp' }),
  });
}
