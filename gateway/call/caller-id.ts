// Caller ID toward a trunk (issue 9 item 4): which number the call presents and how.
// - The number: the route's callerId, else the user's (users[].callerId), else the user's name. Never what
//   the caller's own From says (a browser can claim anything).
// - Privacy (withheld caller ID) when the route or the user asks it, or the caller's INVITE does (RFC 3323
//   §4.2 Privacy: id / user). The gateway is then the privacy service; the anonymous From is the form
//   RFC 3323 §4.1.1.3 recommends (paraphrased): "Anonymous" <sip:anonymous@anonymous.invalid>.
// - RFC 3325 §9.1 P-Asserted-Identity only toward a trunk in our trust domain (trunks[].trusted): it carries
//   the real identity even when withheld, with Privacy: id (RFC 3325 §7 and §9.3, paraphrased: the "id"
//   value asks the trust domain to withhold the asserted identity from anyone outside it) for the carrier to
//   remove it at its edge. An untrusted trunk never gets a P-Asserted-Identity (§5: not outside the domain).
import type { TrunkRouteConfig } from '../config/dial-plan.js';
import type { TrunkConfig, UserConfig } from '../config/schema.js';
import { formatNameAddr, getHeader } from '../sip/message/index.js';
import type { HeaderField, NameAddr, SipRequest, SipUri } from '../sip/message/types.js';

export const ANONYMOUS: NameAddr = {
  displayName: 'Anonymous',
  uri: { scheme: 'sip', user: 'anonymous', host: 'anonymous.invalid', params: {}, headers: {} },
  params: {},
};

export interface PresentedIdentity {
  /** Our From (without tag). */
  from: NameAddr;
  /** P-Asserted-Identity / Privacy, as the trunk's trust allows. */
  headers: HeaderField[];
}

/** RFC 3323 §4.2 priv-values the caller may ask for that withhold its identity. */
export function callerAsksPrivacy(invite: SipRequest): boolean {
  const value = getHeader(invite, 'Privacy');
  if (value === undefined) return false;
  return value.split(/[;,]/).some((v) => ['id', 'user'].includes(v.trim().toLowerCase()));
}

/** The number presented on a call of `user` over `route` (route first, then the user, then the name). */
export function callerNumber(user: UserConfig, route?: Pick<TrunkRouteConfig, 'callerId'>): string {
  return route?.callerId ?? user.callerId ?? user.name;
}

export function presentIdentity(o: {
  user: UserConfig;
  route?: Pick<TrunkRouteConfig, 'callerId' | 'privacy'>;
  trunk: Pick<TrunkConfig, 'trusted'>;
  /** The host of our identity URI (the trunk's). */
  host: string;
  /** The caller's INVITE (its Privacy header); absent: the caller asked nothing (a transfer for a trunk). */
  callerInvite?: SipRequest;
}): PresentedIdentity {
  const uri: SipUri = { scheme: 'sip', user: callerNumber(o.user, o.route), host: o.host, params: {}, headers: {} };
  const identity: NameAddr = { uri, params: {} };
  const withheld = o.route?.privacy === true || o.user.privacy === true || (o.callerInvite !== undefined && callerAsksPrivacy(o.callerInvite));
  const headers: HeaderField[] = [];
  if (o.trunk.trusted) {
    headers.push({ name: 'P-Asserted-Identity', value: formatNameAddr(identity) });
    if (withheld) headers.push({ name: 'Privacy', value: 'id' });
  }
  return { from: withheld ? ANONYMOUS : identity, headers };
}
