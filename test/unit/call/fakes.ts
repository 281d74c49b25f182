// In-memory stand-ins for the layers below the call layer: no sockets, no timers of their own.
import { parseMessage } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { ClientTransaction, ClientTransactionHandlers, ServerTransaction, TransactionLayer } from '../../../gateway/sip/transaction/types.js';
import type { Flow, SipTransport, Target, TransportKind } from '../../../gateway/sip/transport/types.js';
import { MediaError, type MediaEngine } from '../../../gateway/media/types.js';

/** Parse SIP text written with \n line ends. */
export function sip<T extends SipRequest | SipResponse = SipRequest>(text: string, body = ''): T {
  const head = text.trim().split('\n').map((l) => l.trim()).join('\r\n');
  return parseMessage(Buffer.from(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)) as T;
}

export class FakeFlow implements Flow {
  alive = true;
  /** Set to play a listening point that advertises another address than it is bound to. */
  advertised: { address: string; port: number } | undefined;
  private listeners: Array<() => void> = [];
  constructor(
    readonly id: string,
    readonly transport: TransportKind = 'ws',
    readonly local = { address: '127.0.0.1', port: 8080 },
    readonly remote = { address: '127.0.0.1', port: 50000 },
  ) {}
  get sentBy() {
    return this.advertised ?? this.local;
  }
  get reliable(): boolean {
    return this.transport !== 'udp';
  }
  onClose(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  close(): void {
    this.alive = false;
    for (const l of this.listeners) l();
  }
}

export class FakeServerTx implements ServerTransaction {
  readonly id = `srv-${Math.random()}`;
  state = 'proceeding';
  readonly responses: SipResponse[] = [];
  private ackTimeout: Array<() => void> = [];
  constructor(
    readonly request: SipRequest,
    readonly flow: Flow,
  ) {}
  respond(response: SipResponse): void {
    if (this.state !== 'proceeding') throw new Error(`respond ${response.status} in state ${this.state}`);
    this.responses.push(response);
    if (response.status >= 200) this.state = response.status < 300 ? 'accepted' : 'completed';
  }
  /** Recorded like respond(), flagged: the transaction ends at once (a stateless challenge). */
  readonly stateless: SipResponse[] = [];
  respondStatelessly(response: SipResponse): void {
    this.respond(response);
    this.stateless.push(response);
    this.state = 'terminated';
  }
  onAckTimeout(listener: () => void): void {
    this.ackTimeout.push(listener);
  }
  fireAckTimeout(): void {
    for (const l of this.ackTimeout) l();
  }
  get statuses(): number[] {
    return this.responses.map((r) => r.status);
  }
  get last(): SipResponse {
    return this.responses[this.responses.length - 1]!;
  }
}

export interface SentRequest {
  request: SipRequest;
  dest: Flow | Target;
  handlers: ClientTransactionHandlers;
}

export class FakeTransactions implements TransactionLayer {
  readonly sent: SentRequest[] = [];
  private requestHandler?: (r: SipRequest, tx: ServerTransaction, m?: ServerTransaction) => void;
  private ackHandler?: (ack: SipRequest, flow: Flow) => void;
  private strayHandler?: (res: SipResponse, flow: Flow) => void;

  sendRequest(request: SipRequest, dest: Flow | Target, handlers: ClientTransactionHandlers): ClientTransaction {
    this.sent.push({ request, dest, handlers });
    return { id: `c-${this.sent.length}`, request, state: 'calling', flow: Promise.resolve(new FakeFlow('trunk', 'udp')) };
  }
  onRequest(h: typeof this.requestHandler & {}): void {
    this.requestHandler = h;
  }
  onAck(h: (ack: SipRequest, flow: Flow) => void): void {
    this.ackHandler = h;
  }
  onStrayResponse(h: (res: SipResponse, flow: Flow) => void): void {
    this.strayHandler = h;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}

  /** Deliver a new request as the transaction layer would. */
  deliver(req: SipRequest, flow: Flow, matchingInvite?: ServerTransaction): FakeServerTx {
    const tx = new FakeServerTx(req, flow);
    this.requestHandler!(req, tx, matchingInvite);
    return tx;
  }
  deliverAck(ack: SipRequest, flow: Flow): void {
    this.ackHandler!(ack, flow);
  }
  deliverStray(res: SipResponse, flow: Flow): void {
    this.strayHandler!(res, flow);
  }
  /** Requests sent with a given method. */
  method(m: string): SentRequest[] {
    return this.sent.filter((s) => s.request.method === m);
  }
}

export class FakeTransport implements SipTransport {
  readonly sent: Array<{ message: SipRequest | SipResponse; dest: Flow | Target }> = [];
  async send(message: SipRequest | SipResponse, dest: Flow | Target): Promise<Flow> {
    this.sent.push({ message, dest });
    return new FakeFlow('out', 'udp');
  }
  async sendResponse(): Promise<void> {}
  onMessage(): void {}
  localAddress(kind: TransportKind) {
    return kind === 'udp' || kind === 'ws' ? { address: '127.0.0.1', port: kind === 'udp' ? 5060 : 8080 } : undefined;
  }
  async close(): Promise<void> {}
}

export const TRUNK_OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 8 101\r\n';
export const LOCAL_ANSWER = 'v=0\r\no=- 3 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20004 RTP/AVP 0\r\n';
export const WEBRTC_ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\na=ice-lite\r\nm=audio 20002 UDP/TLS/RTP/SAVPF 0\r\n';

export class FakeMedia implements MediaEngine {
  readonly calls: Array<{ op: string; req: unknown }> = [];
  fail: Partial<Record<'offer' | 'answer' | 'echo' | 'answerLocally', MediaError>> = {};
  readonly deleted: string[] = [];
  private op<T>(op: 'offer' | 'answer' | 'echo' | 'answerLocally', req: unknown, sdp: string): Promise<T> {
    this.calls.push({ op, req });
    const err = this.fail[op];
    return err ? Promise.reject(err) : Promise.resolve({ sdp } as T);
  }
  offer(req: unknown) {
    return this.op<{ sdp: string }>('offer', req, TRUNK_OFFER);
  }
  answer(req: unknown) {
    return this.op<{ sdp: string }>('answer', req, WEBRTC_ANSWER);
  }
  echo(req: unknown) {
    return this.op<{ sdp: string }>('echo', req, WEBRTC_ANSWER);
  }
  /** ModifiableMediaEngine (session modification, call/modify.ts). */
  answerLocally(req: unknown) {
    return this.op<{ sdp: string }>('answerLocally', req, LOCAL_ANSWER);
  }
  async rollback(req: unknown): Promise<void> {
    this.calls.push({ op: 'rollback', req });
  }
  onInactive(): () => void {
    return () => undefined;
  }
  async delete(callId: string): Promise<void> {
    this.deleted.push(callId);
  }
  stats() {
    return undefined;
  }
  async close(): Promise<void> {}
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

export { MediaError };

/** Let queued promise callbacks run (the call layer awaits the media engine and DNS-free target resolution). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
