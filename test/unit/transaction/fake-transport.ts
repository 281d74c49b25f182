// A socket-free SipTransport for the transaction unit tests: records what goes out (with the fake-clock
// time), lets the test inject inbound messages, and can be told to fail sends.
import { parseMessage, serializeMessage } from '../../../gateway/sip/message/index.js';
import type { SipMessage, SipResponse } from '../../../gateway/sip/message/types.js';
import {
  TransportError,
  type Address,
  type Flow,
  type OnWritten,
  type SipTransport,
  type Target,
  type TransportKind,
  type WireCopy,
} from '../../../gateway/sip/transport/types.js';

export interface SentRecord {
  /** What went out; for a resend(), the bytes parsed back. */
  message: SipMessage;
  dest: Flow | Target;
  at: number;
  /** The bytes on the wire (serialized as the real transport does). */
  data: Buffer;
  /** True for a resend() of bytes written before. */
  resent?: boolean;
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

  send(message: SipMessage, dest: Flow | Target, onWritten?: OnWritten): Promise<Flow> {
    const data = serializeMessage(message);
    this.sent.push({ message, dest, at: Date.now(), data });
    if (this.failWith !== undefined) return Promise.reject(new TransportError(this.failWith));
    const flow = 'reliable' in dest ? dest : fakeFlow(dest.transport, 'resolved');
    onWritten?.({ data, flow });
    return Promise.resolve(flow);
  }

  sendResponse(response: SipResponse, flow: Flow, onWritten?: OnWritten): Promise<void> {
    const data = serializeMessage(response);
    this.sent.push({ message: response, dest: flow, at: Date.now(), data });
    if (this.failWith !== undefined) return Promise.reject(new TransportError(this.failWith));
    onWritten?.({ data, flow });
    return Promise.resolve();
  }

  resend(copy: WireCopy): Promise<void> {
    this.sent.push({ message: parseMessage(copy.data), dest: copy.flow, at: Date.now(), data: copy.data, resent: true });
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
