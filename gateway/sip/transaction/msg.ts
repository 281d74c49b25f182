// The few message reads and builds the transaction layer needs. Private stand-ins until
// gateway/sip/message/index.js lands; same names and shapes as the planned shared helpers.
import type { CSeq, HeaderField, SipMessage, SipRequest, SipResponse, Via } from '../message/types.js';

/** A message lacks what the transaction layer needs to match it (reason names the fault). */
export class TransactionInputError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TransactionInputError';
  }
}

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always
 *  begin with the characters "z9hG4bK"". */
export const MAGIC_COOKIE = 'z9hG4bK';

export function getHeader(msg: SipMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  return msg.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

function headersNamed(msg: SipMessage, name: string): HeaderField[] {
  const lower = name.toLowerCase();
  return msg.headers.filter((h) => h.name.toLowerCase() === lower);
}

/** First element of a comma-separated header value, ignoring commas inside quotes or <>. */
function firstElement(value: string): string {
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') angle++;
    else if (!quoted && c === '>') angle--;
    else if (!quoted && angle === 0 && c === ',') return value.slice(0, i);
  }
  return value;
}

function parseParams(text: string): Record<string, string | null> {
  const params: Record<string, string | null> = {};
  for (const part of text.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) params[trimmed.toLowerCase()] = null;
    else params[trimmed.slice(0, eq).trim().toLowerCase()] = trimmed.slice(eq + 1).trim();
  }
  return params;
}

const VIA_RE = /^\s*([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*([^\s;]+)\s+([^;]+?)\s*(;.*)?$/;

/** RFC 3261 §20.42: the top (first) via-parm of the first Via header field. */
export function getTopVia(msg: SipMessage): Via {
  const value = getHeader(msg, 'Via');
  if (value === undefined) throw new TransactionInputError('missing Via header');
  const m = VIA_RE.exec(firstElement(value));
  if (!m) throw new TransactionInputError(`malformed Via: ${value}`);
  const sentBy = m[4]!;
  const hostPort = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(sentBy);
  if (!hostPort) throw new TransactionInputError(`malformed Via sent-by: ${sentBy}`);
  const via: Via = {
    protocol: `${m[1]}/${m[2]}`,
    transport: m[3]!.toUpperCase(),
    host: hostPort[1]!,
    params: parseParams(m[5] ?? ''),
  };
  if (hostPort[2] !== undefined) via.port = Number(hostPort[2]);
  return via;
}

/** RFC 3261 §20.16: CSeq = 1*DIGIT LWS Method. */
export function getCSeq(msg: SipMessage): CSeq {
  const value = getHeader(msg, 'CSeq');
  if (value === undefined) throw new TransactionInputError('missing CSeq header');
  const m = /^\s*(\d{1,10})\s+(\S+)\s*$/.exec(value);
  if (!m) throw new TransactionInputError(`malformed CSeq: ${value}`);
  return { seq: Number(m[1]), method: m[2]! };
}

/** The tag header parameter of a From/To value (parameters after the URI, RFC 3261 §20.10). */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const close = value.lastIndexOf('>');
  const tail = close >= 0 ? value.slice(close + 1) : value.slice(Math.max(value.indexOf(';'), 0));
  const tag = parseParams(tail)['tag'];
  return tag ?? undefined;
}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final response. "The ACK request constructed by the client
 *  transaction MUST contain values for the Call-ID, From, and Request-URI that are equal to the values of
 *  those header fields in the request passed to the transport by the client transaction ... The To header
 *  field in the ACK MUST equal the To header field in the response being acknowledged ... The ACK MUST
 *  contain a single Via header field, and this MUST be equal to the top Via header field of the original
 *  request ... The CSeq header field in the ACK MUST contain the same value for the sequence number as was
 *  present in the original request, but the method parameter MUST be equal to "ACK". ... If the INVITE
 *  request whose response is being acknowledged had Route header fields, those header fields MUST appear
 *  in the ACK." */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const via = getHeader(invite, 'Via');
  const headers: HeaderField[] = [
    { name: 'Via', value: firstElement(via ?? '').trim() },
    ...headersNamed(invite, 'Route'),
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: getHeader(invite, 'From') ?? '' },
    { name: 'To', value: getHeader(response, 'To') ?? '' },
    { name: 'Call-ID', value: getHeader(invite, 'Call-ID') ?? '' },
    { name: 'CSeq', value: `${getCSeq(invite).seq} ACK` },
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method: 'ACK', uri: invite.uri, version: invite.version, headers, body: Buffer.alloc(0) };
}

/** RFC 3261 §8.2.6: a response copies Via (all, in order), From, To, Call-ID, CSeq; a 100 also copies
 *  Timestamp (§8.2.6.1). No To tag is added: "a 100 (Trying) ... SHOULD NOT" carry one. */
export function buildResponse(request: SipRequest, status: number, reason: string): SipResponse {
  const copied = request.headers.filter((h) => {
    const n = h.name.toLowerCase();
    if (n === 'timestamp') return status === 100;
    return n === 'via' || n === 'from' || n === 'to' || n === 'call-id' || n === 'cseq';
  });
  const headers = [...copied, { name: 'Content-Length', value: '0' }];
  return { kind: 'response', status, reason, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}
