// What happens to bytes that arrived on a flow: parse, stamp the top Via (RFC 3261 §18.2.1, RFC 3581),
// deliver; or answer a malformed request 400 with the fault as reason phrase.
import type { Logger } from '../../log.js';
import {
  createResponseFromPartial,
  formatVia,
  getHeaderValues,
  getTopVia,
  parseMessage,
  reasonPhrase,
} from '../message/index.js';
import { SipParseError, type HeaderField, type SipMessage, type SipRequest, type SipResponse } from '../message/types.js';
import { stampInboundVia } from './addressing.js';
import { fitsWithin, limitResponseSize, recordReceivedSize } from './budget.js';
import type { BaseFlow } from './flow.js';
import { summarize } from './summary.js';
import type { Address } from './types.js';

export interface InboundDeps {
  logger: Logger;
  deliver(message: SipMessage, flow: BaseFlow): void;
  respond(response: SipResponse, flow: BaseFlow): Promise<void>;
  /** Is this response's top Via sent-by one of ours (bound port or advertised address)? Only for logging. */
  isOwnSentBy(via: { host: string; port?: number }): boolean;
  /** TransportOptions.admit / screenRaw / screen: false drops the message silently. */
  admit?(flow: BaseFlow): boolean;
  screenRaw?(data: Buffer, flow: BaseFlow): boolean;
  screen?(message: SipMessage, flow: BaseFlow): boolean;
}

function isVia(h: HeaderField): boolean {
  return h.name.toLowerCase() === 'via';
}

/** Replace the first via-parm of the first Via field, keeping any others that shared the field. */
function rewriteTopVia(headers: HeaderField[], source: Address): HeaderField[] {
  const index = headers.findIndex(isVia);
  if (index < 0) return headers;
  const first = headers[index]!;
  const probe = { headers: [first] };
  const top = getTopVia(probe);
  const stamped = top && stampInboundVia(top, source);
  if (!stamped) return headers;
  const [, ...rest] = getHeaderValues(probe, 'Via');
  const replacement = [formatVia(stamped), ...rest].map((value) => ({ name: first.name, value }));
  return [...headers.slice(0, index), ...replacement, ...headers.slice(index + 1)];
}

/** For answering a malformed request: an unusable Via is left as is (a stream flow can still answer). */
function tryRewriteTopVia(headers: HeaderField[], source: Address): HeaderField[] {
  try {
    return rewriteTopVia(headers, source);
  } catch {
    return headers;
  }
}

/** Status for a parse error: the one the parser chose (400, 505, 416 …), 400 if out of range. */
function statusOf(err: SipParseError): number {
  return err.status >= 400 && err.status < 700 ? err.status : 400;
}

/** Send the 400 (or e.status) for an unparseable request, per §18.2.2 like any response. Over UDP
 *  (`bytes`: the datagram's size) the answer is bounded by it (./budget.ts): the fault-naming reason phrase
 *  gives way to the plain one when only that fits. */
export async function rejectMalformed(err: SipParseError, flow: BaseFlow, deps: InboundDeps, bytes?: number): Promise<void> {
  const partial = err.partial;
  const log = { flow: flow.id, remote: flow.remote, reason: err.reason };
  // RFC 3261 §17.1.1.3: an ACK is never answered; responses are never answered.
  if (!partial?.isRequest || partial.method === 'ACK') {
    deps.logger.debug(log, 'malformed message dropped');
    return;
  }
  let response: SipResponse | undefined;
  try {
    const headers = partial.headers ? tryRewriteTopVia(partial.headers, flow.remote) : undefined;
    response = createResponseFromPartial({ ...partial, headers }, statusOf(err), err.reason);
  } catch (buildErr) {
    deps.logger.debug({ ...log, err: (buildErr as Error).message }, 'cannot build response to malformed request');
  }
  if (!response) {
    deps.logger.debug(log, 'malformed request dropped: no response can be built');
    return;
  }
  if (bytes !== undefined && !flow.reliable) {
    if (!fitsWithin(response, bytes)) response.reason = reasonPhrase(response.status);
    limitResponseSize(response, bytes);
  }
  deps.logger.debug(log, 'malformed request answered');
  await deps.respond(response, flow).catch((sendErr: unknown) => {
    deps.logger.debug({ ...log, err: (sendErr as Error).message }, 'answer to malformed request not sent');
  });
}

/** A parser error as is; a failure after parsing (e.g. an unusable top Via) keeps what was parsed. */
function asParseError(err: unknown, parsed: SipMessage | undefined): SipParseError {
  if (err instanceof SipParseError) {
    if (err.partial || parsed?.kind !== 'request') return err;
    return new SipParseError(err.reason, { method: parsed.method, headers: parsed.headers, isRequest: true }, err.status);
  }
  const reason = err instanceof Error ? err.message : String(err);
  if (parsed?.kind !== 'request') return new SipParseError(reason);
  return new SipParseError(reason, { method: parsed.method, headers: parsed.headers, isRequest: true });
}

function prepareRequest(request: SipRequest, flow: BaseFlow): void {
  // RFC 3261 §8.1.1.7 / §18.2.1: without a Via no response could be routed.
  if (!getTopVia(request)) throw new SipParseError('Missing Via header');
  request.headers = rewriteTopVia(request.headers, flow.remote);
}

/** Parse one complete message (a datagram, a framed stream chunk, a WS message) and act on it. */
export function receive(data: Buffer, flow: BaseFlow, deps: InboundDeps): void {
  // A banned (or flooding) source: dropped before any parsing, nothing answered, not even a 400.
  if (deps.admit && !deps.admit(flow)) return;
  // A scanner's request: dropped on its raw User-Agent line, before the parse a flood would pay for.
  if (deps.screenRaw && !deps.screenRaw(data, flow)) return;
  const message = parseAndPrepare(data, flow, deps);
  if (!message) return;
  if (deps.screen && !deps.screen(message, flow)) return;
  recordReceivedSize(message, data.length);
  // The summary (two header scans) only when the line is written: at info it was paid for every message.
  if (deps.logger.isLevelEnabled('debug')) deps.logger.debug({ flow: flow.id, remote: flow.remote, ...summarize(message) }, 'sip in');
  if (message.kind === 'response') checkResponseVia(message, flow, deps);
  deps.deliver(message, flow);
}

/** The parsed message with its Via stamped, or undefined after answering/dropping a malformed one. */
function parseAndPrepare(data: Buffer, flow: BaseFlow, deps: InboundDeps): SipMessage | undefined {
  let parsed: SipMessage | undefined;
  try {
    // RFC 3261 §18.3: Content-Length is mandatory on TCP/TLS; a datagram or a WebSocket message
    // (RFC 7118 §5.2: one SIP message per WebSocket message) carries its own length.
    const stream = flow.transport === 'tcp' || flow.transport === 'tls';
    const message: SipMessage = parseMessage(data, { stream });
    parsed = message;
    if (message.kind === 'request') prepareRequest(message, flow);
    return message;
  } catch (err) {
    void rejectMalformed(asParseError(err, parsed), flow, deps, data.length);
    return undefined;
  }
}

/** RFC 3261 §18.1.2: a response whose top Via sent-by is not ours "MUST be silently discarded"; we stay
 *  lenient (the transaction layer will find no match) and only note it. */
function checkResponseVia(response: SipResponse, flow: BaseFlow, deps: InboundDeps): void {
  try {
    const via = getTopVia(response);
    if (!via) throw new Error('no Via');
    if (!deps.isOwnSentBy(via)) {
      deps.logger.debug({ flow: flow.id, sentBy: `${via.host}:${via.port}` }, 'response Via sent-by is not ours');
    }
  } catch (err) {
    deps.logger.debug({ flow: flow.id, err: (err as Error).message }, 'response without a usable Via');
  }
}
