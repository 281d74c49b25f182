// What every transaction gets from the layer, plus the client-side sending helper shared by both
// client machines.
import type { Logger } from '../../log.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.js';
import { TransportError, type Flow, type SipTransport, type Target } from '../transport/types.js';
import type { TimerValues } from './types.js';

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

/** Sends a client transaction's messages: the request first, then retransmissions and the ACK, on the flow
 *  the first send resolved (RFC 3261 §17.1.1.3: the ACK "MUST be sent to the same address, port, and
 *  transport to which the original request was sent"). Every failure goes to onError, never unhandled. */
export class ClientSender {
  readonly flow: Promise<Flow>;
  readonly reliable: boolean;
  private resolved: Flow | undefined;

  constructor(
    private readonly transport: SipTransport,
    request: SipRequest,
    private readonly dest: Flow | Target,
    private readonly onError: (err: Error) => void,
  ) {
    this.reliable = isReliable(dest);
    this.flow = this.rawSend(request, dest);
    this.flow.then(
      (flow) => {
        this.resolved = flow;
      },
      (err: unknown) => this.onError(asError(err)),
    );
  }

  send(message: SipMessage): void {
    this.rawSend(message, this.resolved ?? this.dest).catch((err: unknown) => this.onError(asError(err)));
  }

  private rawSend(message: SipMessage, dest: Flow | Target): Promise<Flow> {
    try {
      return this.transport.send(message, dest);
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
): void {
  let sent: Promise<void>;
  try {
    sent = transport.sendResponse(response, flow);
  } catch (err) {
    sent = Promise.reject(asError(err));
  }
  sent.catch((err: unknown) => onError(asError(err)));
}

/** What a server transaction tells the layer about itself. */
export interface ServerHooks {
  /** Reached Terminated: drop it from the tables. */
  terminated(): void;
  /** Entered (or re-sent a 2xx in) Accepted: index it under the key its ACK will carry. */
  accepted?(ackKey: string): void;
}
