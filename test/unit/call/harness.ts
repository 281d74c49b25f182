// A SIP service wired to the in-memory fakes, with helpers that play the browser and the trunk.
import { startSipService } from '../../../gateway/call/index.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { answerChallenge } from '../../../gateway/sip/auth/index.js';
import { createResponse, getCSeq, getCallId, getFrom, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { FakeFlow, FakeMedia, FakeServerTx, FakeTransactions, FakeTransport, settle, sip, type SentRequest } from './fakes.js';

export const BROWSER_OFFER = 'v=0\r\no=- 9 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n';
export const TRUNK_ANSWER = 'v=0\r\no=sipp 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n';

export function testConfig(extra: Record<string, unknown> = {}) {
  return configSchema.parse({
    sip: { domain: 'gw.test' },
    users: [{ name: 'alice', password: 'secret', callerId: '+15550001' }, { name: 'bob', password: 'pw2' }],
    trunks: [{ name: 'main', uri: 'sip:127.0.0.1:5099', username: 'gwuser', password: 'gwpass' }],
    routes: [{ match: '^\\*43$', echo: true }, { match: '^\\+?\\d{3,}$', trunk: 'main' }],
    // Home country +1: the tests' +1555… numbers are national (dial rules refuse international by default).
    dialRules: { countryCode: '1' },
    ...extra,
  });
}

let seq = 0;

export function setup(config = testConfig()) {
  const transactions = new FakeTransactions();
  const transport = new FakeTransport();
  const media = new FakeMedia();
  const service = startSipService({ config, transport, transactions, media, logger: createLogger('silent') });
  const flow = new FakeFlow('ws-1');

  function inviteText(number: string, o: { user?: string; sdp?: string; authz?: string; callId?: string; maxForwards?: number; headers?: string }) {
    const user = o.user ?? 'alice';
    const body = o.sdp ?? BROWSER_OFFER;
    return sip(
      `INVITE sip:${number}@gw.test SIP/2.0
       Via: SIP/2.0/WS br.invalid;branch=z9hG4bK${++seq}
       Max-Forwards: ${o.maxForwards ?? 70}
       From: "Claimed Name" <sip:${user}@gw.test>;tag=btag
       To: <sip:${number}@gw.test>
       Call-ID: ${o.callId ?? 'browser-call'}
       CSeq: ${seq} INVITE
       Contact: <sip:xyz@br.invalid;transport=ws>
       ${body ? 'Content-Type: application/sdp' : 'X-Empty: 1'}
       ${o.authz ? `Proxy-Authorization: ${o.authz}` : 'X-No-Auth: 1'}
       ${o.headers ?? 'X-No-Extra: 1'}`,
      body,
    );
  }

  /** The browser's INVITE, answering the 407 with `password` (unless auth is false). */
  function invite(number: string, o: { user?: string; password?: string; sdp?: string; auth?: boolean; maxForwards?: number; headers?: string } = {}): FakeServerTx {
    const first = transactions.deliver(inviteText(number, o), flow);
    if (o.auth === false || first.last?.status !== 407) return first;
    const challenge = getHeader(first.last, 'Proxy-Authenticate')!;
    const uri = `sip:${number}@gw.test`;
    const authz = answerChallenge({ challenge, username: o.user ?? 'alice', password: o.password ?? 'secret', method: 'INVITE', uri });
    return transactions.deliver(inviteText(number, { ...o, authz }), flow);
  }

  /** A request from the browser inside the call's dialog (To tag = the gateway's tag). */
  function browserInDialog(method: string, inviteTx: FakeServerTx): FakeServerTx {
    const toTag = getTo(inviteTx.responses.find((r) => r.status > 100)!).params.tag;
    const req = sip(`${method} sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
      Via: SIP/2.0/WS br.invalid;branch=z9hG4bK${++seq}
      Max-Forwards: 70
      From: <sip:alice@gw.test>;tag=btag
      To: <sip:x@gw.test>;tag=${toTag}
      Call-ID: browser-call
      CSeq: ${1000 + seq} ${method}`);
    if (method === 'ACK') {
      transactions.deliverAck(req, flow);
      return new FakeServerTx(req, flow);
    }
    return transactions.deliver(req, flow);
  }

  /** CANCEL for the browser's INVITE (same branch). */
  function cancel(inviteTx: FakeServerTx): FakeServerTx {
    const inv = inviteTx.request;
    const req: SipRequest = {
      ...inv,
      method: 'CANCEL',
      headers: inv.headers
        .filter((h) => !['content-type', 'proxy-authorization', 'contact'].includes(h.name.toLowerCase()))
        .map((h) => (h.name === 'CSeq' ? { ...h, value: `${getCSeq(inv).seq} CANCEL` } : h)),
      body: Buffer.alloc(0),
    };
    return transactions.deliver(req, flow, inviteTx);
  }

  /** The trunk answers the n-th INVITE the gateway sent. */
  function trunkResponds(status: number, o: { n?: number; body?: string; headers?: { name: string; value: string }[]; toTag?: string } = {}): SipResponse {
    const sent = trunkInvite(o.n);
    const res = createResponse(sent.request, status, undefined, {
      toTag: status > 100 ? (o.toTag ?? 'trunktag') : undefined,
      headers: [{ name: 'Contact', value: '<sip:sipp@127.0.0.1:5099>' }, ...(o.headers ?? [])],
      body: o.body === undefined ? undefined : Buffer.from(o.body),
      contentType: o.body === undefined ? undefined : 'application/sdp',
    });
    sent.handlers.onResponse(res);
    return res;
  }

  function trunkInvite(n = 0): SentRequest {
    const s = transactions.method('INVITE')[n];
    if (!s) throw new Error(`no INVITE #${n} sent to the trunk`);
    return s;
  }

  /** A BYE from the trunk in the answered trunk dialog. */
  function trunkBye(): FakeServerTx {
    const inv = trunkInvite(transactions.method('INVITE').length - 1).request;
    const req = sip(`BYE sip:gateway@127.0.0.1:5060 SIP/2.0
      Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK${++seq}
      Max-Forwards: 70
      From: <sip:x@127.0.0.1>;tag=trunktag
      To: <sip:y@127.0.0.1>;tag=${getFrom(inv).params.tag}
      Call-ID: ${getCallId(inv)}
      CSeq: 77 BYE`);
    return transactions.deliver(req, new FakeFlow('udp-trunk', 'udp'));
  }

  /** A browser call to `number` that the trunk answered (200 with TRUNK_ANSWER); with `ack`, the browser
   *  has ACKed it too (the dialog is confirmed). Returns the browser's INVITE transaction. */
  async function answered(o: { ack: boolean }, number = '5551234'): Promise<ReturnType<typeof invite>> {
    const tx = invite(number);
    await settle();
    trunkResponds(200, { body: TRUNK_ANSWER });
    await settle();
    if (o.ack) browserInDialog('ACK', tx);
    return tx;
  }

  return { service, transactions, transport, media, flow, invite, answered, browserInDialog, cancel, trunkResponds, trunkInvite, trunkBye };
}
