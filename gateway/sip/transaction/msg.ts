// The message reads and builds the transaction layer needs, on top of the shared message layer.
import { getCSeq, getFields, getFrom, getHeader, getTo, getTopVia } from '../message/index.js';
import type { HeaderField, SipMessage, SipRequest, SipResponse, Via } from '../message/types.js';

/** A message lacks what the transaction layer needs, or the TU misused the API (reason names the fault). */
export class TransactionInputError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TransactionInputError';
  }
}

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always
 *  begin with the characters "z9hG4bK"". */
export const MAGIC_COOKIE = 'z9hG4bK';

/** The top Via; throws TransactionInputError when there is none (a malformed one throws SipParseError). */
export function topVia(msg: SipMessage): Via {
  const via = getTopVia(msg);
  if (via === undefined) throw new TransactionInputError('missing Via header');
  return via;
}

/** The From/To tag, undefined when absent or when the header does not parse. */
export function tagOf(msg: SipMessage, which: 'From' | 'To'): string | undefined {
  try {
    const tag = (which === 'From' ? getFrom(msg) : getTo(msg)).params['tag'];
    return tag ?? undefined;
  } catch {
    return undefined;
  }
}

/** RFC 3261 §17.1.1.3: the ACK for a non-2xx final response. "The ACK request constructed by the client
 *  transaction MUST contain values for the Call-ID, From, and Request-URI that are equal to the values of
 *  those header fields in the request passed to the transport by the client transaction ... The To header
 *  field in the ACK MUST equal the To header field in the response being acknowledged ... The ACK MUST
 *  contain a single Via header field, and this MUST be equal to the top Via header field of the original
 *  request ... The CSeq header field in the ACK MUST contain the same value for the sequence number as was
 *  present in the original request, but the method parameter MUST be equal to "ACK". ... If the INVITE
 *  request whose response is being acknowledged had Route header fields, those header fields MUST appear
 *  in the ACK." (Content-Length is written by the serializer.) */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: HeaderField[] = [
    { name: 'Via', value: getHeader(invite, 'Via') ?? '' },
    ...getFields(invite, 'Route').map((h) => ({ ...h })),
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: getHeader(invite, 'From') ?? '' },
    { name: 'To', value: getHeader(response, 'To') ?? '' },
    { name: 'Call-ID', value: getHeader(invite, 'Call-ID') ?? '' },
    { name: 'CSeq', value: `${getCSeq(invite).seq} ACK` },
  ];
  return { kind: 'request', method: 'ACK', uri: invite.uri, version: invite.version, headers, body: Buffer.alloc(0) };
}
