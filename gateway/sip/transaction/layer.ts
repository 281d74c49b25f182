// The transaction layer: owns the four §17 state machines, matches inbound messages to them (§17.1.3,
// §17.2.3) and hands everything else to the TU.
import type { Logger } from '../../log.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.js';
import type { Flow, SipTransport, Target } from '../transport/types.js';
import { safely, sendResponseSafely, type ServerHooks, type TxEnv } from './env.js';
import { InviteClientTransaction } from './invite-client.js';
import { InviteServerTransaction } from './invite-server.js';
import { ackKeyOfRequest, clientKeyOfRequest, clientKeyOfResponse, serverKey } from './keys.js';
import { createResponse, newTag } from '../message/index.js';
import { tagOf, TransactionInputError } from './msg.js';
import { NonInviteClientTransaction } from './non-invite-client.js';
import { NonInviteServerTransaction } from './non-invite-server.js';
import { OverloadGate, type LagSource } from './overload.js';
import { resolveTimers } from './timers.js';
import type {
  ClientTransaction,
  ClientTransactionHandlers,
  ServerTransaction,
  TimerValues,
  TransactionLayer,
} from './types.js';

export interface TransactionLayerOptions {
  transport: SipTransport;
  timers?: Partial<TimerValues>;
  logger: Logger;
  /** Server transactions held at once, per kind (INVITE / non-INVITE). A new request beyond it is answered
   *  503 with Retry-After, statelessly, without reaching the TU. Default 10,000 (config
   *  sip.maxServerTransactions). Stateless answers (respondStatelessly: challenges) never count. */
  maxServerTransactions?: number;
  /** Overload control (overload.ts, config sip.overload): new out-of-dialog INVITEs and REGISTERs get 503
   *  with Retry-After while the event loop lags more than lagMs (0: off). Default off. */
  overload?: { lagMs: number; retryAfter: number; source?: LagSource };
}

export const DEFAULT_MAX_SERVER_TRANSACTIONS = 10_000;

/** RFC 3261 §21.5.4: the Retry-After (seconds) of the 503 a request gets while the table is full. */
export const OVERLOAD_RETRY_AFTER_S = 5;

type ClientTx = InviteClientTransaction | NonInviteClientTransaction;
type ServerTx = InviteServerTransaction | NonInviteServerTransaction;
type RequestHandler = (request: SipRequest, tx: ServerTransaction, matchingInvite?: ServerTransaction) => void;
type AckHandler = (ack: SipRequest, flow: Flow) => void;
type StrayHandler = (response: SipResponse, flow: Flow) => void;

function kindOf(request: SipRequest): 'invite' | 'other' {
  return request.method === 'INVITE' ? 'invite' : 'other';
}

export function createTransactionLayer(options: TransactionLayerOptions): TransactionLayer {
  return new Layer(options);
}

class Layer implements TransactionLayer {
  private readonly env: TxEnv;
  private readonly clients = new Map<string, ClientTx>();
  private readonly servers = new Map<string, ServerTx>();
  /** How many of `servers` are INVITE / non-INVITE transactions (each kind capped at maxServers). */
  private readonly held = { invite: 0, other: 0 };
  private readonly maxServers: number;
  private overloaded = false;
  private readonly gate: OverloadGate | undefined;
  /** Accepted INVITE server transactions by the key their 2xx's ACK carries (keys.ts ackKey). */
  private readonly accepted = new Map<string, InviteServerTransaction>();
  private readonly requestHandlers: RequestHandler[] = [];
  private readonly ackHandlers: AckHandler[] = [];
  private readonly strayHandlers: StrayHandler[] = [];
  private legacyCounter = 0;
  private closed = false;
  /** Client transactions that have not yet had a final response, a timeout or a transport error. */
  private readonly awaitingFinal = new Set<object>();
  private readonly drainWaiters: Array<() => void> = [];

  constructor(options: TransactionLayerOptions) {
    this.env = { transport: options.transport, timers: resolveTimers(options.timers), logger: options.logger };
    this.maxServers = options.maxServerTransactions ?? DEFAULT_MAX_SERVER_TRANSACTIONS;
    if (options.overload && options.overload.lagMs > 0) {
      this.gate = new OverloadGate({ ...options.overload, logger: options.logger });
    }
    options.transport.onMessage((message, flow) => this.receive(message, flow));
  }

  sendRequest(request: SipRequest, dest: Flow | Target, handlers: ClientTransactionHandlers): ClientTransaction {
    if (this.closed) throw new TransactionInputError('transaction layer is closed');
    if (request?.kind !== 'request') throw new TransactionInputError('sendRequest() needs a SIP request');
    if (request.method === 'ACK') {
      // RFC 3261 §17.1.1.3 / §13.2.2.4: an ACK is never a client transaction of its own.
      throw new TransactionInputError('ACK has no client transaction: send it with the transport');
    }
    const key = clientKeyOfRequest(request);
    if (this.clients.has(key)) throw new TransactionInputError(`a client transaction ${key} already exists`);
    const token = {};
    const settle = (): void => this.settle(token);
    const onTerminated = (): void => {
      settle();
      this.forget(this.clients, key, tx);
    };
    const tracked = this.tracking(token, handlers, settle);
    const tx: ClientTx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(key, request, dest, tracked, this.env, onTerminated)
        : new NonInviteClientTransaction(key, request, dest, tracked, this.env, onTerminated);
    if (tx.state !== 'terminated') this.clients.set(key, tx);
    return tx;
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandlers.push(handler);
  }

  onAck(handler: AckHandler): void {
    this.ackHandlers.push(handler);
  }

  onStrayResponse(handler: StrayHandler): void {
    this.strayHandlers.push(handler);
  }

  async drain(timeoutMs: number): Promise<void> {
    // A TU often sends from a promise continuation (a BYE once its destination is known): let those queued
    // now run first, so their transactions are counted.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.awaitingFinal.size === 0) return;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The TU's handlers, noting the first final outcome: §17.1.1.2 / §17.1.2.2 a final response, Timer B/F,
   *  or a transport error ends the wait for a final response. */
  private tracking(token: object, h: ClientTransactionHandlers, settle: () => void): ClientTransactionHandlers {
    this.awaitingFinal.add(token);
    return {
      onResponse: (response) => {
        if (response.status >= 200) settle();
        h.onResponse(response);
      },
      onTimeout: () => {
        settle();
        h.onTimeout();
      },
      onTransportError: (error) => {
        settle();
        h.onTransportError(error);
      },
    };
  }

  private settle(token: object): void {
    if (!this.awaitingFinal.delete(token) || this.awaitingFinal.size > 0) return;
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }

  close(): void {
    this.closed = true;
    this.gate?.close();
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.terminate();
    this.clients.clear();
    this.servers.clear();
    this.accepted.clear();
  }

  private forget<T>(table: Map<string, T>, key: string, tx: T): void {
    if (table.get(key) === tx) table.delete(key);
  }

  private receive(message: SipMessage, flow: Flow): void {
    if (this.closed) return;
    try {
      if (message.kind === 'response') this.receiveResponse(message, flow);
      else if (message.method === 'ACK') this.receiveAck(message, flow);
      else this.receiveRequest(message, flow);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.env.logger.warn({ flow: flow.id, reason }, 'transaction layer: inbound message dropped');
    }
  }

  /** §17.1.3 matching; "responses matching no transaction" go to the stray handlers (RFC 6026 §7.2 lets
   *  the UAC core see late 2xx retransmissions). */
  private receiveResponse(response: SipResponse, flow: Flow): void {
    const key = clientKeyOfResponse(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx) {
      tx.receiveResponse(response);
      return;
    }
    for (const handler of this.strayHandlers) safely(this.env.logger, 'onStrayResponse', () => handler(response, flow));
  }

  /** §17.2.3: an ACK matching an INVITE server transaction goes to it (absorbed unless the transaction is
   *  Accepted). An ACK for a 2xx carries a new branch (§13.2.2.4), so it is also looked up by Call-ID,
   *  CSeq number and tags among the Accepted transactions; it then stops the 2xx retransmissions. Every ACK
   *  not absorbed reaches the onAck handlers. */
  private receiveAck(ack: SipRequest, flow: Flow): void {
    const key = serverKey(ack);
    const byBranch = key === undefined ? undefined : this.servers.get(key);
    if (byBranch instanceof InviteServerTransaction) {
      if (!byBranch.receiveAck()) return;
    } else {
      const dialogKey = ackKeyOfRequest(ack);
      if (dialogKey !== undefined) this.accepted.get(dialogKey)?.receiveAck();
    }
    for (const handler of this.ackHandlers) safely(this.env.logger, 'onAck', () => handler(ack, flow));
  }

  private receiveRequest(request: SipRequest, flow: Flow): void {
    const key = this.serverKeyOrLegacy(request);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    if (this.full(request)) return this.rejectOverload(request, flow, OVERLOAD_RETRY_AFTER_S);
    if (this.gate && this.sheddable(request) && this.gate.refuse()) return this.rejectOverload(request, flow, this.gate.retryAfter);
    const tx = this.createServer(key, request, flow);
    this.servers.set(key, tx);
    this.held[kindOf(request)] += 1;
    const matchingInvite = request.method === 'CANCEL' ? this.inviteCancelledBy(request) : undefined;
    if (this.requestHandlers.length === 0) {
      this.env.logger.error({ method: request.method }, 'transaction layer: no request handler; answering 503');
      this.answerIfUnanswered(tx, request, 503, 'Service Unavailable');
      return;
    }
    for (const handler of this.requestHandlers) {
      try {
        handler(request, tx, matchingInvite);
      } catch (err) {
        this.env.logger.error({ err, method: request.method }, 'onRequest handler threw');
        this.answerIfUnanswered(tx, request, 500, 'Server Internal Error');
      }
    }
  }

  /** Is the table full for this request's kind? Logs entering (warn) and leaving (info) overload. */
  private full(request: SipRequest): boolean {
    const full = this.held[kindOf(request)] >= this.maxServers;
    if (full !== this.overloaded) {
      this.overloaded = full;
      const log = { held: { ...this.held }, max: this.maxServers };
      if (full) this.env.logger.warn(log, 'server transaction table full: new requests get 503');
      else this.env.logger.info(log, 'server transaction table below its cap again');
    }
    return full;
  }

  /** What overload control may refuse: work that would start (a new call, a registration), never what
   *  keeps or ends one already up (in-dialog requests carry a To tag; BYE, ACK, CANCEL pass). */
  private sheddable(request: SipRequest): boolean {
    return (request.method === 'INVITE' || request.method === 'REGISTER') && tagOf(request, 'To') === undefined;
  }

  /** RFC 3261 §21.5.4: "The server is temporarily unable to process the request due to a temporary
   *  overloading ... The server MAY indicate when the client should retry the request in a Retry-After
   *  header field." Sent statelessly: an overload answer must not take a table entry itself. */
  private rejectOverload(request: SipRequest, flow: Flow, retryAfter: number): void {
    const headers = [{ name: 'Retry-After', value: String(retryAfter) }];
    const response = createResponse(request, 503, 'Service Unavailable', { toTag: newTag(), headers });
    sendResponseSafely(this.env.transport, response, flow, (err) => {
      this.env.logger.debug({ flow: flow.id, err: err.message }, 'overload 503 not sent');
    });
  }

  /** A request whose TU failed must still get a final response, or its transaction would never end. */
  private answerIfUnanswered(tx: ServerTx, request: SipRequest, status: number, reason: string): void {
    if (tx.state !== 'trying' && tx.state !== 'proceeding') return;
    tx.respond(createResponse(request, status, reason, { toTag: newTag() }));
  }

  /** RFC 2543 requests (no magic cookie) cannot be matched reliably: logged and treated as new. */
  private serverKeyOrLegacy(request: SipRequest): string {
    const key = serverKey(request);
    if (key !== undefined) return key;
    this.env.logger.info({ method: request.method }, 'request without RFC 3261 branch: treated as a new transaction');
    this.legacyCounter += 1;
    return `rfc2543|${this.legacyCounter}`;
  }

  /** RFC 3261 §9.2: "the CANCEL ... matches the transaction being cancelled" by the §17.2.3 rules with the
   *  INVITE method (same branch and sent-by). */
  private inviteCancelledBy(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey(cancel, 'INVITE');
    const tx = key === undefined ? undefined : this.servers.get(key);
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  private createServer(key: string, request: SipRequest, flow: Flow): ServerTx {
    const ackKeys: string[] = [];
    const kind = kindOf(request); // not the request: the hooks outlive the transaction's hold on it
    let tx: ServerTx;
    const hooks: ServerHooks = {
      terminated: () => {
        if (this.servers.get(key) === tx) this.held[kind] -= 1;
        this.forget(this.servers, key, tx);
        for (const ackKey of ackKeys) this.forget(this.accepted, ackKey, tx as InviteServerTransaction);
      },
      accepted: (ackKey) => {
        ackKeys.push(ackKey);
        this.accepted.set(ackKey, tx as InviteServerTransaction);
      },
    };
    tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction(key, request, flow, this.env, hooks)
        : new NonInviteServerTransaction(key, request, flow, this.env, hooks);
    return tx;
  }
}
