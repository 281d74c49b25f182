// Registrar test doubles: flows and server transactions in memory, and a REGISTER client that answers
// the digest challenge. No sockets, no timers of their own.
import { configSchema, type GatewayConfig } from '../../../gateway/config/schema.js';
import { createLogger, type Logger } from '../../../gateway/log.js';
import { createRegistrar } from '../../../gateway/registrar/index.js';
import type { Registrar, RegistrarDeps } from '../../../gateway/registrar/index.js';
import { answerChallenge, createDigestServer } from '../../../gateway/sip/auth/index.js';
import { getHeader, parseMessage } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { ServerTransaction } from '../../../gateway/sip/transaction/types.js';
import type { Address, Flow, TransportKind } from '../../../gateway/sip/transport/types.js';

/** Parse SIP text written with \n line ends (blank lines dropped). */
export function sip(text: string): SipRequest {
  const head = text.trim().split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\r\n');
  return parseMessage(Buffer.from(`${head}\r\nContent-Length: 0\r\n\r\n`)) as SipRequest;
}

let flows = 0;

export class FakeFlow implements Flow {
  alive = true;
  readonly reliable: boolean;
  private listeners: Array<() => void> = [];
  constructor(
    readonly transport: TransportKind = 'ws',
    readonly remote: Address = { address: '127.0.0.1', port: 50000 + flows },
    readonly id = `${transport}#${++flows}`,
    readonly local: Address = { address: '127.0.0.1', port: 5060 },
  ) {
    this.reliable = transport !== 'udp';
  }
  get sentBy(): Address {
    return this.local;
  }
  onClose(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  close(): void {
    this.alive = false;
    for (const l of [...this.listeners]) l();
  }
  get listenerCount(): number {
    return this.listeners.length;
  }
}

export class FakeServerTx implements ServerTransaction {
  readonly id = `srv-${Math.random()}`;
  state = 'trying';
  readonly responses: SipResponse[] = [];
  constructor(
    readonly request: SipRequest,
    readonly flow: Flow,
  ) {}
  respond(response: SipResponse): void {
    if (this.state === 'completed') throw new Error(`second final response ${response.status}`);
    this.responses.push(response);
    if (response.status >= 200) this.state = 'completed';
  }
  /** Recorded like respond(), flagged: the transaction ends at once (a stateless challenge). */
  readonly stateless: SipResponse[] = [];
  respondStatelessly(response: SipResponse): void {
    this.respond(response);
    this.stateless.push(response);
    this.state = 'terminated';
  }
  onAckTimeout(): void {}
  get last(): SipResponse {
    const r = this.responses[this.responses.length - 1];
    if (!r) throw new Error('no response');
    return r;
  }
}

export const USERS = [
  { name: 'alice', password: 'wonderland' },
  { name: 'bob', password: 'builder' },
];

export function testConfig(registrar: Record<string, unknown> = {}): GatewayConfig {
  return configSchema.parse({ sip: { domain: 'gw.test' }, users: USERS, registrar });
}

export interface RegisterOptions {
  user?: string;
  password?: string;
  /** Contact header value(s); omitted → a WS contact; null → no Contact header (a query). */
  contact?: string | string[] | null;
  expires?: number | string;
  uri?: string;
  flow?: Flow;
  /** false: send without credentials and return the 401. */
  auth?: boolean;
  aor?: string;
  callId?: string;
  cseq?: number;
}

export interface Harness {
  registrar: Registrar;
  logger: Logger;
  register(o?: RegisterOptions): FakeServerTx;
}

/** A registrar on a digest server with the same clock; `register` answers the 401 like a UA. */
export function harness(deps: Partial<RegistrarDeps> = {}): Harness {
  const logger = deps.logger ?? createLogger('silent');
  const config = deps.config ?? testConfig();
  const now = deps.now ?? Date.now;
  const digest = deps.digest ?? createDigestServer({ realm: 'gw.test', algorithms: ['MD5'], now });
  const registrar = createRegistrar({ store: false, ...deps, config, digest, logger, now });
  let cseq = 0;
  const defaultFlow = new FakeFlow('ws');
  function register(o: RegisterOptions = {}): FakeServerTx {
    const user = o.user ?? 'alice';
    const aor = o.aor ?? user;
    const uri = o.uri ?? 'sip:gw.test';
    const flow = o.flow ?? defaultFlow;
    const contacts = o.contact === null ? [] : [o.contact ?? '<sip:abc@c.invalid;transport=ws>'].flat();
    const seq = o.cseq ?? ++cseq;
    const text = (authz?: string) =>
      sip(`REGISTER ${uri} SIP/2.0
        Via: SIP/2.0/${flow.transport.toUpperCase()} c.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}
        Max-Forwards: 70
        From: <sip:${aor}@gw.test>;tag=f
        To: <sip:${aor}@gw.test>
        Call-ID: ${o.callId ?? `reg-${user}`}
        CSeq: ${seq} REGISTER
        ${contacts.map((c) => `Contact: ${c}`).join('\n')}
        ${o.expires !== undefined ? `Expires: ${o.expires}` : ''}
        ${authz ? `Authorization: ${authz}` : ''}`);
    const first = new FakeServerTx(text(), flow);
    registrar.handle(first.request, first);
    if (o.auth === false || first.last.status !== 401) return first;
    const challenge = getHeader(first.last, 'WWW-Authenticate')!;
    const authz = answerChallenge({ challenge, username: user, password: o.password ?? USERS.find((u) => u.name === user)?.password ?? 'x', method: 'REGISTER', uri });
    const second = new FakeServerTx(text(authz), flow);
    registrar.handle(second.request, second);
    return second;
  }
  return { registrar, logger, register };
}
