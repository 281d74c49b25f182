// What every transaction gets from the layer, plus the helpers shared by both client machines (sending,
// calling the TU) and by both server machines (checking and sending responses).
import type { Logger } from '../../log.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.js';
import { TransportError, type Flow, type OnWritten, type SipTransport, type Target, type WireCopy } from '../transport/types.js';
import { TransactionInputError } from './msg.js';
import type { ClientTransactionHandlers, TimerValues } from './types.js';

export interface TxEnv {
  readonly transport: SipTransport;
  readonly timers: TimerValues;
  readonly logger: Logger;
}

/** Runs a TU callback; a throwing TU is logged, never allowed to unwind into a timer or the transport. */
export function safely(logger: Logger, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    logger.error({ err }, `transaction user callback ${what} threw`);
  }
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new TransportError(String(err));
}

/** RFC 3261 §17.1.1.2 / §18: stream transports are reliable. A Target has no flow yet, so its kind decides. */
export function isReliable(dest: Flow | Target): boolean {
  return 'reliable' in dest ? dest.reliable : dest.transport !== 'udp';
}

/** What a client transaction in its final wait state (Completed: Timer D/K) keeps for its TU: nothing.
 *  §17.1.1.2 / §17.1.2.2: in Completed no response is passed up any more, so the TU's handlers (and the
 *  call state their closures hold) are let go at once rather than 5–32 s later. */
export const RELEASED_TU: ClientTransactionHandlers = { onResponse: () => {}, onTimeout: () => {}, onTransportError: () => {} };

/** A transaction's `request` once it let the parsed request go (a final sent or received: only the bytes to
 *  retransmit and the key remain). Reading it then is the TU's mistake. */
export function releasedRequest(id: string, state: string): never {
  throw new TransactionInputError(`transaction ${id}: the request was released in state ${state}`);
}

/** `data` in memory of its own: a small Buffer is a view of a shared 8 KiB pool slab, which a copy kept
 *  for 32 s (Timer J) would keep alive whole. */
function own(data: Buffer): Buffer {
  if (data.byteOffset === 0 && data.buffer.byteLength === data.length) return data;
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

/** The message a transaction may have to send again. RFC 3261 §17: a retransmission is the same message,
 *  so once the transport has written it only its bytes and flow are kept (transport.resend writes them
 *  again) and the parsed message, with everything it references, is let go. Over a transport without
 *  resend(), or before the write, the message itself is kept and sent again. */
export class LastSent<M extends SipMessage> {
  private message: M | undefined;
  private copy: WireCopy | undefined;
  private generation = 0;

  constructor(private readonly transport: SipTransport) {}

  /** Anything to send again? */
  get held(): boolean {
    return this.message !== undefined || this.copy !== undefined;
  }

  /** `message` is now the one to send again; pass the returned callback to the transport's send. */
  remember(message: M): OnWritten | undefined {
    this.message = message;
    this.copy = undefined;
    if (this.transport.resend === undefined) return undefined;
    const generation = ++this.generation;
    return (copy) => {
      if (generation !== this.generation) return; // a later message was remembered meanwhile
      this.copy = { data: own(copy.data), flow: copy.flow };
      this.message = undefined;
    };
  }

  /** Sends it again: its bytes with transport.resend, else the message with `send`. Nothing when none. */
  again(send: (message: M) => void, onError: (err: Error) => void): void {
    const { copy, message } = this;
    if (copy !== undefined && this.transport.resend) {
      let sent: Promise<void>;
      try {
        sent = this.transport.resend(copy);
      } catch (err) {
        sent = Promise.reject(asError(err));
      }
      sent.catch((err: unknown) => onError(asError(err)));
    } else if (message !== undefined) send(message);
  }

  clear(): void {
    this.generation += 1;
    this.message = undefined;
    this.copy = undefined;
  }
}

/** A client transaction's calls up to its TU, each run `safely`. */
export class ClientTu {
  constructor(
    private readonly logger: Logger,
    private readonly handlers: ClientTransactionHandlers,
  ) {}

  response(response: SipResponse): void {
    safely(this.logger, 'onResponse', () => this.handlers.onResponse(response));
  }

  timeout(): void {
    safely(this.logger, 'onTimeout', () => this.handlers.onTimeout());
  }

  transportError(err: Error): void {
    safely(this.logger, 'onTransportError', () => this.handlers.onTransportError(err));
  }
}

/** Sends a client transaction's messages: the request first, then retransmissions and the ACK, on the flow
 *  the first send resolved (RFC 3261 §17.1.1.3: the ACK "MUST be sent to the same address, port, and
 *  transport to which the original request was sent"). A retransmission is the bytes first written
 *  (LastSent). Every failure goes to onError, never unhandled. */
export class ClientSender {
  readonly flow: Promise<Flow>;
  readonly reliable: boolean;
  private resolved: Flow | undefined;
  /** The request, then (INVITE, a non-2xx) the ACK: what again() sends. */
  private readonly last: LastSent<SipRequest>;

  constructor(
    private readonly transport: SipTransport,
    request: SipRequest,
    private readonly dest: Flow | Target,
    private readonly onError: (err: Error) => void,
  ) {
    this.reliable = isReliable(dest);
    this.last = new LastSent(transport);
    this.flow = this.rawSend(request, dest, this.last.remember(request));
    this.flow.then(
      (flow) => {
        this.resolved = flow;
      },
      (err: unknown) => this.onError(asError(err)),
    );
  }

  /** A new message (the ACK for a non-2xx): sent, and from now on what again() sends. */
  send(message: SipRequest): void {
    this.rawSend(message, this.resolved ?? this.dest, this.last.remember(message)).catch((err: unknown) => this.onError(asError(err)));
  }

  /** The request (Timer A/E) or the ACK (a retransmitted final response) once more, as first written. */
  again(): void {
    this.last.again((message) => this.send(message), this.onError);
  }

  /** Nothing will be sent again: let the message (or its bytes) go. */
  clear(): void {
    this.last.clear();
  }

  private rawSend(message: SipMessage, dest: Flow | Target, onWritten: OnWritten | undefined): Promise<Flow> {
    try {
      return this.transport.send(message, dest, onWritten);
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }
}

/** Sends a server transaction's responses on the request's flow (RFC 3261 §18.2.2); a failure goes to
 *  onError, never unhandled. */
export function sendResponseSafely(
  transport: SipTransport,
  response: SipResponse,
  flow: Flow,
  onError: (err: Error) => void,
  onWritten?: OnWritten,
): void {
  let sent: Promise<void>;
  try {
    sent = transport.sendResponse(response, flow, onWritten);
  } catch (err) {
    sent = Promise.reject(asError(err));
  }
  sent.catch((err: unknown) => onError(asError(err)));
}

/** A server transaction as the helpers below see it; `machine` names it in errors and logs. */
interface ServerMachine {
  readonly id: string;
  readonly flow: Flow;
  readonly state: string;
  terminate(): void;
}

/** respond()'s input rule for both server machines: anything but a response with status 100-699 is the
 *  TU's mistake (thrown); once Terminated, a response is dropped (logged). True when it may go on. */
export function admitResponse(env: TxEnv, tx: ServerMachine, machine: string, response: SipResponse): boolean {
  if (response?.kind !== 'response' || !(response.status >= 100 && response.status <= 699)) {
    throw new TransactionInputError(`${machine} ${tx.id}: respond() needs a response with status 100-699`);
  }
  if (tx.state === 'terminated') {
    env.logger.warn({ tx: tx.id, status: response.status }, `${machine}: response after termination dropped`);
    return false;
  }
  return true;
}

/** §17.2.4: a transport failure terminates the server transaction (logged). */
function sendFailed(env: TxEnv, tx: ServerMachine, machine: string, status: number | undefined, err: Error): void {
  env.logger.warn({ tx: tx.id, status, err: err.message }, `${machine}: send failed`);
  tx.terminate();
}

/** Sends a server transaction's response, remembered in `last` for retransmission (its bytes once
 *  written); §17.2.4: a transport failure terminates the transaction (logged). */
export function sendOrTerminate(env: TxEnv, tx: ServerMachine, machine: string, response: SipResponse, last: LastSent<SipResponse>): void {
  const { status } = response;
  sendResponseSafely(env.transport, response, tx.flow, (err) => sendFailed(env, tx, machine, status, err), last.remember(response));
}

/** A server transaction's last response once more (a retransmitted request, Timer G, a 2xx's T1 timer). */
export function sendAgain(env: TxEnv, tx: ServerMachine, machine: string, last: LastSent<SipResponse>): void {
  last.again(
    (response) => sendOrTerminate(env, tx, machine, response, last),
    (err) => sendFailed(env, tx, machine, undefined, err),
  );
}

/** respondStatelessly() for both server machines (Kamailio's sl_send_reply): only a first final response,
 *  and for INVITE only a non-2xx (a 2xx needs the Accepted state's retransmissions, RFC 6026 §7.1); the
 *  transaction terminates first (out of the layer's table, no timers, nothing kept), then the response goes
 *  out once. A retransmitted request is then a new request, answered again the same way. */
export function sendStateless(env: TxEnv, tx: ServerMachine & { readonly answered: boolean }, machine: string, response: SipResponse): void {
  if (!admitResponse(env, tx, machine, response)) return;
  const lowest = machine.startsWith('INVITE') ? 300 : 200;
  if (response.status < lowest || tx.answered) {
    throw new TransactionInputError(`${machine} ${tx.id}: only a first final (INVITE: non-2xx) response can be sent statelessly`);
  }
  tx.terminate();
  sendResponseSafely(env.transport, response, tx.flow, (err) => {
    env.logger.debug({ tx: tx.id, status: response.status, err: err.message }, `${machine}: stateless response not sent`);
  });
}

/** What a server transaction tells the layer about itself. */
export interface ServerHooks {
  /** Reached Terminated: drop it from the tables. */
  terminated(): void;
  /** Entered (or re-sent a 2xx in) Accepted: index it under the key its ACK will carry. */
  accepted?(ackKey: string): void;
}
