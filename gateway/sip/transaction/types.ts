// Transaction layer contract (RFC 3261 §17, with the RFC 6026 Accepted states).
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow, Target } from '../transport/types.js';

/** RFC 3261 §17.1.1.1 timer values, milliseconds. */
export interface TimerValues {
  t1: number; // 500: RTT estimate
  t2: number; // 4000: cap for non-INVITE request and INVITE response retransmits
  t4: number; // 5000: max time a message stays in the network
}

export interface ClientTransactionHandlers {
  /** Every provisional and final response. For INVITE, every 2xx (including retransmissions while the
   *  transaction is Accepted, RFC 6026 §7.2) is passed up so the UAC core can (re)send its ACK. */
  onResponse(response: SipResponse): void;
  /** Timer B (INVITE) or Timer F (non-INVITE) fired: the TU acts as for a 408 (RFC 3261 §8.1.3.1). */
  onTimeout(): void;
  /** The transport failed: the TU acts as for a 503 (RFC 3261 §8.1.3.1). */
  onTransportError(error: Error): void;
}

export interface ClientTransaction {
  readonly id: string; // branch + method
  readonly request: SipRequest;
  readonly state: string;
  /** The flow the request went out on (resolved once sent). */
  readonly flow: Promise<Flow>;
}

export interface ServerTransaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly state: string;
  /** Send a response; the transaction keeps it for retransmission as §17.2 says. For INVITE over an
   *  unreliable flow a 2xx is retransmitted at T1, doubling to T2, until the ACK arrives or 64*T1 passes
   *  (RFC 3261 §13.3.1.4, kept in the RFC 6026 Accepted state); then onAckTimeout listeners fire. */
  respond(response: SipResponse): void;
  /** Send a first final response statelessly (Kamailio's sl_send_reply; INVITE: non-2xx only): the
   *  transaction ends at once and keeps nothing — no retransmission, no Timer H/J, no table entry; a
   *  retransmitted request is a new request to the TU. For answers to unauthenticated requests (challenges,
   *  an out-of-dialog OPTIONS): whoever sends them, as often as they like, holds no state here. Throws
   *  (TransactionInputError) for a 1xx, an INVITE 2xx, or after any response. */
  respondStatelessly(response: SipResponse): void;
  onAckTimeout(listener: () => void): void;
}

export interface TransactionLayer {
  sendRequest(request: SipRequest, dest: Flow | Target, handlers: ClientTransactionHandlers): ClientTransaction;
  /** New requests (retransmissions are absorbed). A CANCEL arrives here too, with `matchingInvite` set to the
   *  INVITE server transaction it cancels (RFC 3261 §9.2) or undefined (→ the TU answers 481). */
  onRequest(handler: (request: SipRequest, tx: ServerTransaction, matchingInvite?: ServerTransaction) => void): void;
  /** ACK for a 2xx (it is its own transaction-less request, RFC 3261 §17.2.1 / RFC 6026). */
  onAck(handler: (ack: SipRequest, flow: Flow) => void): void;
  /** Responses matching no client transaction (e.g. 2xx retransmissions after the transaction ended). */
  onStrayResponse(handler: (response: SipResponse, flow: Flow) => void): void;
  /** Resolves once no client transaction awaits a final response (each got one, timed out or failed), or
   *  after timeoutMs: a graceful stop lets the BYEs and CANCELs it just sent complete before close(). */
  drain(timeoutMs: number): Promise<void>;
  close(): void;
}
