// Building responses and fresh identifiers, used by every upper layer.
import { randomToken } from '../../lib/random-pool.js';
import { nameKey } from './header-names.js';
import { splitList } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import { type HeaderField, type SipRequest, type SipResponse, SipParseError } from './types.js';
import { parseVia } from './via.js';

/** RFC 3261 §21 reason phrases for the codes the gateway uses. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  603: 'Decline',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status >= 200 && status < 300 ? 'OK' : 'Unknown');
}

export interface ResponseOptions {
  /** Added to To when the request's To has no tag (RFC 3261 §8.2.6.2). */
  toTag?: string;
  /** Extra fields, appended after the copied ones. */
  headers?: HeaderField[];
  body?: Buffer;
  contentType?: string;
}

/** RFC 3261 §8.2.6.2: "the From field of the response MUST equal the From header field of the request.
 *  The Call-ID … MUST equal … The CSeq … MUST equal … The Via header field values in the response MUST
 *  equal the Via header field values in the request and MUST maintain the same ordering." If To has no
 *  tag, the UAS adds one. §8.2.6.1: a 100 (Trying) copies any Timestamp. */
/** The request each response built by createResponse answers (the transport bounds a UDP answer by the
 *  request's size on the wire, transport/budget.ts). */
const answers = new WeakMap<SipResponse, SipRequest>();

/** The request `response` was built from by createResponse, if any. */
export function requestOf(response: SipResponse): SipRequest | undefined {
  return answers.get(response);
}

export function createResponse(req: SipRequest, status: number, reason?: string, opts: ResponseOptions = {}): SipResponse {
  const copy = status === 100 ? ['via', 'from', 'to', 'call-id', 'cseq', 'timestamp'] : ['via', 'from', 'to', 'call-id', 'cseq'];
  const headers: HeaderField[] = [];
  for (const h of req.headers) {
    const key = nameKey(h.name);
    if (!copy.includes(key)) continue;
    headers.push({ name: h.name, value: key === 'to' && opts.toTag ? withTag(h.value, opts.toTag) : h.value });
  }
  if (opts.headers) headers.push(...opts.headers.map((h) => ({ ...h })));
  if (opts.contentType !== undefined) headers.push({ name: 'Content-Type', value: opts.contentType });
  const response: SipResponse = {
    kind: 'response',
    status,
    reason: reason ?? reasonPhrase(status),
    version: 'SIP/2.0',
    headers,
    body: opts.body ?? Buffer.alloc(0),
  };
  answers.set(response, req);
  return response;
}

/** Append ;tag= unless the To value already carries one (or cannot be parsed: left untouched). */
function withTag(to: string, tag: string): string {
  try {
    const na = parseNameAddr(to, 'Bad To');
    return 'tag' in na.params ? to : `${to};tag=${tag}`;
  } catch {
    return to;
  }
}

/** Answer a request that failed to parse (typically 400 with SipParseError.reason) from its `partial`.
 *  Undefined when no response may or can be built: a response, an ACK (RFC 3261 §17.2.1: never answered),
 *  or a request lacking Via/From/To/Call-ID/CSeq or whose top Via does not parse. */
export function createResponseFromPartial(
  partial: SipParseError['partial'],
  status: number,
  reason?: string,
): SipResponse | undefined {
  if (!partial || partial.isRequest !== true || partial.method === 'ACK' || !partial.headers) return undefined;
  const headers = partial.headers;
  const find = (key: string) => headers.filter((h) => nameKey(h.name) === key);
  const vias = find('via');
  for (const key of ['from', 'to', 'call-id', 'cseq']) if (find(key).length === 0) return undefined;
  try {
    const top = vias[0] ? splitList(vias[0].value)[0] : undefined;
    if (top === undefined) return undefined;
    parseVia(top);
  } catch {
    return undefined;
  }
  const pseudo: SipRequest = { kind: 'request', method: partial.method ?? '', uri: '', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
  return createResponse(pseudo, status, sanitizeReason(reason ?? reasonPhrase(status)));
}

/** Reason-Phrase may not contain CR/LF; keep it short enough for a status line. */
function sanitizeReason(reason: string): string {
  return reason.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

/** Tags, branches and Call-IDs: from the CSPRNG through lib/random-pool.ts (several per call). */
function random(bytes: number): string {
  return randomToken(bytes); // [A-Za-z0-9_-]: all token characters
}

/** RFC 3261 §8.1.1.7: the branch "MUST always begin with the characters z9hG4bK" and be unique. */
export function newBranch(): string {
  return 'z9hG4bK' + random(12); // 16 random characters, 96 bits
}

/** RFC 3261 §19.3: tags need at least 32 bits of randomness. */
export function newTag(): string {
  return random(9); // 12 characters, 72 bits
}

/** RFC 3261 §8.1.1.4: Call-ID "MUST be … globally unique"; optionally `random@host`. */
export function newCallId(host?: string): string {
  const id = random(18);
  return host ? `${id}@${host}` : id;
}
