// A socket-free SipTransport for the transaction unit tests: records what goes out (with the fake-clock
// time), lets the test inject inbound messages, and can be told to fail sends.
import type { SipMessage, SipResponse } from '../../../gateway/sip/message/types.js';
import {
  TransportError,
  type Address,
  type Flow,
  type SipTransport,
  type Target,
  type TransportKind,
} from '../../../gateway/sip/transport/types.js';

export interface SentRecord {
  message: SipMessage;
  dest: Flow | Target;
  at: number;
}

export function fakeFlow(transport: TransportKind = 'udp', id = `flow-${transport}`): Flow {
  return {
    id,
    transport,
    local: { address: '127.0.0.1', port: 5060 },
    sentBy: { address: '127.0.0.1', port: 5060 },
    remote: { address: '127.0.0.1', port: 5070 },
    reliable: transport !== 'udp',
    alive: true,
    onClose: () => () => {},
  };
}

export class FakeTransport implements SipTransport {
  readonly sent: SentRecord[] = [];
  /** When set, every send/sendResponse rejects with this TransportError. */
  failWith: string | undefined;
  private handler: ((message: SipMessage, flow: Flow) => void) | undefined;

  send(message: SipMessage, dest: Flow | Target): Promise<Flow> {
    this.sent.push({ message, dest, at: Date.now() });
    if (this.failWith !== undefined) return Promise.reject(new TransportError(this.failWith));
    return Promise.resolve('reliable' in dest ? dest : fakeFlow(dest.transport, 'resolved'));
  }

  sendResponse(response: SipResponse, flow: Flow): Promise<void> {
    this.sent.push({ message: response, dest: flow, at: Date.now() });
    if (this.failWith !== undefined) return Promise.reject(new TransportError(this.failWith));
    return Promise.resolve();
  }

  onMessage(handler: (message: SipMessage, flow: Flow) => void): void {
    this.handler = handler;
  }

  inject(message: SipMessage, flow: Flow): void {
    if (!this.handler) throw new Error('no onMessage handler registered');
    this.handler(message, flow);
  }

  localAddress(_kind: TransportKind): Address | undefined {
    return { address: '127.0.0.1', port: 5060 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Times (ms) at which messages satisfying `pick` were sent. */
  timesOf(pick: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => pick(s.message)).map((s) => s.at);
  }
}
