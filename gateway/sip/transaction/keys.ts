// Transaction matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests).
import type { SipMessage, SipRequest, SipResponse, Via } from '../message/types.js';
import { getCSeq, getHeader } from '../message/index.js';
import { MAGIC_COOKIE, tagOf, topVia, TransactionInputError } from './msg.js';

function branchOf(via: Via): string | undefined {
  const branch = via.params['branch'];
  return typeof branch === 'string' && branch.startsWith(MAGIC_COOKIE) ? branch : undefined;
}

/** Key of a client transaction from the request that creates it: branch + method. */
export function clientKeyOfRequest(request: SipRequest): string {
  const branch = branchOf(topVia(request));
  if (branch === undefined) {
    throw new TransactionInputError(`request top Via has no RFC 3261 branch (must start with ${MAGIC_COOKIE})`);
  }
  return `${branch}|${request.method}`;
}

/** RFC 3261 §17.1.3: "If the response has the same value of the branch parameter in the top Via header
 *  field as the branch parameter in the top Via header field of the request that created the transaction"
 *  and "If the method parameter in the CSeq header field matches the method of the request that created
 *  the transaction. The method is needed since a CANCEL request constitutes a different transaction, but
 *  shares the same value of the branch parameter." Undefined when the branch lacks the magic cookie. */
export function clientKeyOfResponse(response: SipResponse): string | undefined {
  const branch = branchOf(topVia(response));
  return branch === undefined ? undefined : `${branch}|${getCSeq(response).method}`;
}

function sentBy(via: Via): string {
  return via.port === undefined ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

/** RFC 3261 §17.2.3: the branch, the sent-by of the top Via, and "the method of the request matches the
 *  one that created the transaction, except for ACK, where the method of the request that created the
 *  transaction is INVITE". Undefined for RFC 2543 requests (no magic cookie): they are treated as new. */
export function serverKey(request: SipRequest, method: string = request.method): string | undefined {
  const via = topVia(request);
  const branch = branchOf(via);
  if (branch === undefined) return undefined;
  const matchMethod = method === 'ACK' ? 'INVITE' : method;
  return `${branch}|${sentBy(via)}|${matchMethod}`;
}

/** Key tying an ACK for a 2xx (a new transaction with its own branch, RFC 3261 §13.2.2.4) to the INVITE
 *  server transaction that sent the 2xx: Call-ID, CSeq number, From tag and To tag. */
export function ackKey(callId: string, seq: number, fromTag: string, toTag: string): string {
  return `${callId}|${seq}|${fromTag}|${toTag}`;
}

/** The ackKey a request (an ACK) carries, undefined when it lacks a piece. */
export function ackKeyOfRequest(request: SipRequest): string | undefined {
  return dialogAckKey(request, request, request);
}

/** The ackKey of an INVITE's 2xx: Call-ID/From from the INVITE, To tag from the response. */
export function ackKeyOfResponse(invite: SipRequest, response: SipResponse): string | undefined {
  return dialogAckKey(invite, invite, response);
}

/** What an INVITE contributes to the ackKey of its 2xx responses (Call-ID, CSeq number, From tag), taken
 *  once so that a transaction can let the INVITE go and still index a later 2xx. */
export interface AckBase {
  readonly callId: string;
  readonly seq: number;
  readonly fromTag: string;
}

/** The INVITE's AckBase; undefined when it lacks a piece. */
export function ackBaseOf(invite: SipRequest): AckBase | undefined {
  const callId = getHeader(invite, 'Call-ID');
  const fromTag = tagOf(invite, 'From');
  if (callId === undefined || fromTag === undefined) return undefined;
  try {
    return { callId, seq: getCSeq(invite).seq, fromTag };
  } catch {
    return undefined;
  }
}

/** ackKeyOfResponse from an AckBase: the To tag from the 2xx. */
export function ackKeyFromBase(base: AckBase | undefined, response: SipResponse): string | undefined {
  const toTag = base === undefined ? undefined : tagOf(response, 'To');
  return base === undefined || toTag === undefined ? undefined : ackKey(base.callId, base.seq, base.fromTag, toTag);
}

/** Call-ID and CSeq from `base`, From tag from `from`, To tag from `to`; undefined when any is missing. */
function dialogAckKey(base: SipRequest, from: SipMessage, to: SipMessage): string | undefined {
  const callId = getHeader(base, 'Call-ID');
  const fromTag = tagOf(from, 'From');
  const toTag = tagOf(to, 'To');
  if (callId === undefined || fromTag === undefined || toTag === undefined) return undefined;
  try {
    return ackKey(callId, getCSeq(base).seq, fromTag, toTag);
  } catch {
    return undefined;
  }
}
