// A scripted registrar for the REGISTER client: records what the client sends, lets the test answer.
import { createDigestServer, type DigestServer } from '../../../gateway/sip/auth/index.js';
import { createResponse, getHeader } from '../../../gateway/sip/message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { ClientTransaction, ClientTransactionHandlers } from '../../../gateway/sip/transaction/types.js';
import type { Address, Flow, Target, TransportKind } from '../../../gateway/sip/transport/types.js';
import { createLogger } from '../../../gateway/log.js';

export const silent = createLogger('silent');

export interface Sent {
  request: SipRequest;
  dest: Flow | Target;
  handlers: ClientTransactionHandlers;
}

export class FakeLayers {
  readonly sent: Sent[] = [];
  listening: Partial<Record<TransportKind, Address>> = { udp: { address: '127.0.0.1', port: 5070 } };
  readonly transport = { localAddress: (kind: TransportKind) => this.listening[kind] };
  readonly transactions = {
    sendRequest: (request: SipRequest, dest: Flow | Target, handlers: ClientTransactionHandlers): ClientTransaction => {
      this.sent.push({ request, dest, handlers });
      return { id: `c${this.sent.length}`, request, state: 'trying', flow: new Promise<Flow>(() => undefined) };
    },
  };

  get last(): Sent {
    const s = this.sent[this.sent.length - 1];
    if (!s) throw new Error('nothing sent');
    return s;
  }

  /** Answer the latest REGISTER. */
  answer(status: number, reason: string, headers: HeaderField[] = []): SipResponse {
    const res = createResponse(this.last.request, status, reason, { toTag: 'reg', headers });
    this.last.handlers.onResponse(res);
    return res;
  }
}

/** A registrar that challenges with a real digest server and grants what it verifies. */
export class ScriptedRegistrar {
  readonly digest: DigestServer;
  constructor(
    private readonly layers: FakeLayers,
    private readonly password: string,
    realm = 'pbx.test',
  ) {
    this.digest = createDigestServer({ realm, algorithms: ['MD5'] });
  }

  challenge(stale = false): void {
    const headers = this.digest.challenge({ stale }).map((value) => ({ name: 'WWW-Authenticate', value }));
    this.layers.answer(401, 'Unauthorized', headers);
  }

  /** Verify the Authorization of the latest REGISTER. */
  verifies(): boolean {
    const req = this.layers.last.request;
    const r = this.digest.verify('REGISTER', req.uri, getHeader(req, 'Authorization'), () => this.password);
    return r.ok;
  }

  /** 200 with our Contact echoed with `expires`. */
  grant(expires: number): void {
    const contact = getHeader(this.layers.last.request, 'Contact')!;
    this.layers.answer(200, 'OK', [{ name: 'Contact', value: `${contact};expires=${expires}` }]);
  }
}
