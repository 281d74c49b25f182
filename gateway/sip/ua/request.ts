// UAC core: building requests outside a dialog (RFC 3261 §8.1.1) and the CANCEL for one (§9.1).
import { formatNameAddr, formatUri, getHeaderValues, getMaxForwards, newBranch, newCallId, newTag } from '../message/index.js';
import type { HeaderField, NameAddr, SipRequest, SipUri } from '../message/types.js';
import type { Address, TransportKind } from '../transport/types.js';

export const USER_AGENT = 'webphone-gateway/0.1';

/** RFC 3261 §8.1.1.6: "A UAC MUST insert a Max-Forwards header field into each request it originates
 *  with a value that SHOULD be 70." */
export const MAX_FORWARDS = 70;

/** The Max-Forwards of a request this B2BUA sends on behalf of a received one (the INVITE to a trunk,
 *  a PBX or a registered contact). RFC 7332 §3.2 requires a B2BUA to carry the received Max-Forwards
 *  value over into the request it generates, decremented by one, instead of starting again at 70 —
 *  else two B2BUAs routing to each other loop forever. The decrement is a proxy's, RFC 3261 §16.6
 *  step 3: "If the copy contains a Max-Forwards header field, the proxy MUST decrement its value by
 *  one (1). If the copy does not contain a Max-Forwards header field, the proxy MUST add one with a
 *  field value, which SHOULD be 70." A received 0 never gets here: validateRequest answers it 483
 *  (uas.ts), so the result is 0 at the least. */
export function forwardedMaxForwards(received: SipRequest): number {
  const value = getMaxForwards(received);
  return value === undefined ? MAX_FORWARDS : Math.max(value - 1, 0);
}

export interface ViaSpec {
  transport: TransportKind;
  /** Our sent-by for that transport (SipTransport.localAddress(kind)). */
  sentBy: Address;
}

export interface RequestSpec {
  method: string;
  uri: SipUri | string;
  /** A tag is added when absent (§8.1.1.3: "the From field MUST contain a new "tag" parameter"). */
  from: NameAddr;
  /** §8.1.1.2: a request outside of a dialog MUST NOT contain a To tag. */
  to: NameAddr;
  /** §8.1.1.4: new Call-ID when absent. */
  callId?: string;
  cseq: number;
  via: ViaSpec;
  contact?: NameAddr;
  /** Default MAX_FORWARDS (a request we originate); forwardedMaxForwards(received) for one we send on
   *  behalf of a received request. */
  maxForwards?: number;
  headers?: HeaderField[];
  body?: Buffer;
  contentType?: string;
}

function hostOf(a: Address): string {
  return a.address.includes(':') && !a.address.startsWith('[') ? `[${a.address}]` : a.address;
}

function hostPort(a: Address): string {
  return `${hostOf(a)}:${a.port}`;
}

/** RFC 3261 §8.1.1.7 Via with a fresh branch (magic cookie "z9hG4bK") and, RFC 3581 §3, an empty rport
 *  so the server answers to the source address and port. */
export function formatVia(via: ViaSpec, branch: string = newBranch()): string {
  return `SIP/2.0/${via.transport.toUpperCase()} ${hostPort(via.sentBy)};branch=${branch};rport`;
}

/** A Contact for our address on one transport: `<sip:gateway@host:port;transport=x>`. */
export function localContact(via: ViaSpec, user = 'gateway'): NameAddr {
  const params: Record<string, string | null> = via.transport === 'udp' ? {} : { transport: via.transport };
  return { uri: { scheme: 'sip', user, host: hostOf(via.sentBy), port: via.sentBy.port, params, headers: {} }, params: {} };
}

/** RFC 3261 §8.1.1: "a valid SIP request formulated by a UAC MUST, at a minimum, contain the following
 *  header fields: To, From, CSeq, Call-ID, Max-Forwards, and Via". Contact is added for INVITE (§8.1.1.8). */
export function buildRequest(spec: RequestSpec): SipRequest {
  const from: NameAddr = { ...spec.from, params: { ...spec.from.params } };
  if (from.params.tag === undefined || from.params.tag === null) from.params.tag = newTag();
  const headers: HeaderField[] = [
    { name: 'Via', value: formatVia(spec.via) },
    { name: 'Max-Forwards', value: String(spec.maxForwards ?? MAX_FORWARDS) },
    { name: 'From', value: formatNameAddr(from) },
    { name: 'To', value: formatNameAddr(spec.to) },
    { name: 'Call-ID', value: spec.callId ?? newCallId() },
    { name: 'CSeq', value: `${spec.cseq} ${spec.method}` },
  ];
  if (spec.contact) headers.push({ name: 'Contact', value: formatNameAddr(spec.contact) });
  headers.push({ name: 'User-Agent', value: USER_AGENT }, ...(spec.headers ?? []));
  const body = spec.body ?? Buffer.alloc(0);
  if (body.length > 0) headers.push({ name: 'Content-Type', value: spec.contentType ?? 'application/sdp' });
  const uri = typeof spec.uri === 'string' ? spec.uri : formatUri(spec.uri);
  return { kind: 'request', method: spec.method, uri, version: 'SIP/2.0', headers, body };
}

/** The same request again with a new branch and CSeq (e.g. after a 401/407, RFC 3261 §22.2: "the
 *  client SHOULD re-originate the request with the same Call-ID, To, From … but a CSeq incremented"),
 *  plus extra header fields. */
export function reissueRequest(req: SipRequest, cseq: number, extra: HeaderField[] = []): SipRequest {
  const headers = req.headers.map((h): HeaderField => {
    const name = h.name.toLowerCase();
    if (name === 'cseq') return { name: h.name, value: `${cseq} ${req.method}` };
    if (name === 'via') return { name: h.name, value: h.value.replace(/;branch=[^;,\s]+/i, `;branch=${newBranch()}`) };
    return h;
  });
  const at = headers.findIndex((h) => h.name.toLowerCase() === 'user-agent');
  headers.splice(at < 0 ? headers.length : at + 1, 0, ...extra);
  return { ...req, headers };
}

/** RFC 3261 §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the
 *  CANCEL request MUST be identical to those in the request being cancelled, including tags. A CANCEL
 *  constructed by a client MUST have only a single Via header field value matching the top Via value in
 *  the request being cancelled." Route header fields are copied too. */
export function buildCancel(invite: SipRequest): SipRequest {
  const copy = (name: string): HeaderField[] => invite.headers.filter((h) => h.name.toLowerCase() === name);
  const topVia = getHeaderValues(invite, 'Via')[0] ?? '';
  const cseq = copy('cseq')[0]?.value.replace(/\s*INVITE\s*$/i, '') ?? '1';
  const headers: HeaderField[] = [
    { name: 'Via', value: topVia },
    { name: 'Max-Forwards', value: String(MAX_FORWARDS) },
    ...copy('from'),
    ...copy('to'),
    ...copy('call-id'),
    { name: 'CSeq', value: `${cseq} CANCEL` },
    ...copy('route'),
    { name: 'User-Agent', value: USER_AGENT },
  ];
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/** Puts our Via (fresh branch) on top of a request built without one (e.g. by Dialog.createRequest):
 *  RFC 3261 §8.1.1.7 "the UAC MUST insert a Via into the request". */
export function withVia(req: SipRequest, via: ViaSpec): SipRequest {
  return { ...req, headers: [{ name: 'Via', value: formatVia(via) }, ...req.headers] };
}
