// A SIP service on the in-memory fakes for calls that ring users: the trunk at 192.0.2.10, users that
// register contacts over fake WebSocket flows, and helpers to answer the forks the gateway sends.
import { vi } from 'vitest';
import { startSipService } from '../../../gateway/call/index.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { createLogger } from '../../../gateway/log.js';
import { answerChallenge } from '../../../gateway/sip/auth/index.js';
import { createResponse, getCSeq, getCallId, getHeader } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import type { Upstream } from '../../../gateway/upstream/index.js';
import { FakeFlow, FakeMedia, FakeServerTx, FakeTransactions, FakeTransport, sip, type SentRequest } from './fakes.js';

export const TRUNK_IP = '192.0.2.10';
export const TRUNK_RTP_OFFER = 'v=0\r\no=trunk 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0 8 101\r\n';
export const BROWSER_ANSWER = 'v=0\r\no=- 5 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n';
export const CHROME_OFFER = 'v=0\r\no=- 9 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n';

export function inboundConfig(extra: Record<string, unknown> = {}) {
  return configSchema.parse({
    sip: { domain: 'gw.test' },
    users: [
      { name: 'alice', password: 'pa', extension: '201', dids: ['+15550100'] },
      { name: 'bob', password: 'pb', extension: '202' },
      { name: 'carol', password: 'pc', upstream: { registrar: 'sip:pbx.test', username: 'c100', password: 'pbxpw' } },
    ],
    trunks: [{ name: 'main', uri: `sip:${TRUNK_IP}:5060` }],
    routes: [{ match: '^7\\d\\d$', user: 'bob' }, { match: '^\\+?\\d{3,}$', trunk: 'main' }],
    calls: { ringTimeout: 30 },
    ...extra,
  });
}

export function fakeUpstream(): Upstream & {
  matchInbound: ReturnType<typeof vi.fn>;
  outboundFor: ReturnType<typeof vi.fn>;
  isTrunkContact: ReturnType<typeof vi.fn>;
} {
  return {
    start: vi.fn(),
    matchInbound: vi.fn(() => undefined),
    isTrunkContact: vi.fn(() => false),
    outboundFor: vi.fn(() => undefined),
    status: () => ({ trunks: [], upstream: [{ user: 'carol', account: 'c100', state: 'registered' }] }) as unknown as ReturnType<Upstream['status']>,
    close: vi.fn(async () => undefined),
  };
}

let seq = 0;

export function setupInbound(config = inboundConfig()) {
  const transactions = new FakeTransactions();
  const transport = new FakeTransport();
  const media = new FakeMedia();
  const upstream = fakeUpstream();
  const service = startSipService({ config, transport, transactions, media, logger: createLogger('silent'), upstream: () => upstream });
  const trunkFlow = new FakeFlow('udp-trunk', 'udp', { address: '127.0.0.1', port: 5060 }, { address: TRUNK_IP, port: 5060 });

  /** REGISTER `user` over a new WebSocket flow (answering the 401). */
  function register(user: string, password: string, flowId = `ws-${++seq}`): FakeFlow {
    const flow = new FakeFlow(flowId, 'ws', { address: '127.0.0.1', port: 8080 }, { address: '127.0.0.1', port: 40000 + seq });
    const build = (authz?: string) =>
      sip(`REGISTER sip:gw.test SIP/2.0
        Via: SIP/2.0/WS ${flowId}.invalid;branch=z9hG4bKreg${++seq}
        Max-Forwards: 70
        From: <sip:${user}@gw.test>;tag=r${seq}
        To: <sip:${user}@gw.test>
        Call-ID: reg-${flowId}
        CSeq: ${seq} REGISTER
        Contact: <sip:${flowId}@${flowId}.invalid;transport=ws>
        Expires: 600
        ${authz ? `Authorization: ${authz}` : 'X-No-Auth: 1'}`);
    const first = transactions.deliver(build(), flow);
    const challenge = getHeader(first.last, 'WWW-Authenticate')!;
    const authz = answerChallenge({ challenge, username: user, password, method: 'REGISTER', uri: 'sip:gw.test' });
    const second = transactions.deliver(build(authz), flow);
    if (second.last.status !== 200) throw new Error(`REGISTER ${user}: ${second.last.status} ${second.last.reason}`);
    return flow;
  }

  /** An INVITE from the trunk (or any flow) to `number`, with an RTP offer. */
  function trunkInvite(number: string, o: { flow?: FakeFlow; sdp?: string; headers?: string; toUser?: string; maxForwards?: number } = {}): FakeServerTx {
    const body = o.sdp ?? TRUNK_RTP_OFFER;
    const req = sip(
      `INVITE sip:${number}@127.0.0.1:5060 SIP/2.0
       Via: SIP/2.0/UDP ${TRUNK_IP}:5060;branch=z9hG4bKtr${++seq}
       Max-Forwards: ${o.maxForwards ?? 70}
       From: "Jane Doe" <sip:+15557654321@${TRUNK_IP}>;tag=trunktag
       To: <sip:${o.toUser ?? number}@127.0.0.1>
       Call-ID: trunk-call-${seq}
       CSeq: 1 INVITE
       Contact: <sip:trunk@${TRUNK_IP}:5060>
       ${body ? 'Content-Type: application/sdp' : 'X-Empty: 1'}
       ${o.headers ?? 'X-None: 1'}`,
      body,
    );
    return transactions.deliver(req, o.flow ?? trunkFlow);
  }

  /** A user's own INVITE over `flow` (answering the 407). */
  function userInvite(user: string, password: string, number: string, flow: FakeFlow, sdp = CHROME_OFFER): FakeServerTx {
    const build = (authz?: string) =>
      sip(
        `INVITE sip:${number}@gw.test SIP/2.0
         Via: SIP/2.0/WS ${flow.id}.invalid;branch=z9hG4bKui${++seq}
         Max-Forwards: 70
         From: "Claimed" <sip:${user}@gw.test>;tag=utag${seq}
         To: <sip:${number}@gw.test>
         Call-ID: user-call-${flow.id}
         CSeq: ${seq} INVITE
         Contact: <sip:${flow.id}@${flow.id}.invalid;transport=ws>
         Content-Type: application/sdp
         ${authz ? `Proxy-Authorization: ${authz}` : 'X-No-Auth: 1'}`,
        sdp,
      );
    const first = transactions.deliver(build(), flow);
    if (first.last?.status !== 407) return first;
    const challenge = getHeader(first.last, 'Proxy-Authenticate')!;
    const authz = answerChallenge({ challenge, username: user, password, method: 'INVITE', uri: `sip:${number}@gw.test` });
    return transactions.deliver(build(authz), flow);
  }

  /** The n-th INVITE the gateway sent (a fork, or an outbound leg). */
  function sentInvite(n: number): SentRequest {
    const s = transactions.method('INVITE')[n];
    if (!s) throw new Error(`no INVITE #${n} sent`);
    return s;
  }

  /** Fork n answers its INVITE. */
  function forkResponds(n: number, status: number, o: { body?: string; toTag?: string; headers?: { name: string; value: string }[] } = {}): SipResponse {
    const sent = sentInvite(n);
    const res = createResponse(sent.request, status, undefined, {
      toTag: status > 100 ? (o.toTag ?? `fork${n}`) : undefined,
      headers: [{ name: 'Contact', value: `<sip:fork${n}@fork${n}.invalid;transport=ws>` }, ...(o.headers ?? [])],
      body: o.body === undefined ? undefined : Buffer.from(o.body),
      contentType: o.body === undefined ? undefined : 'application/sdp',
    });
    sent.handlers.onResponse(res);
    return res;
  }

  /** CANCEL from the trunk for its INVITE. */
  function trunkCancel(inviteTx: FakeServerTx): FakeServerTx {
    const inv = inviteTx.request;
    const req: SipRequest = {
      ...inv,
      method: 'CANCEL',
      headers: inv.headers
        .filter((h) => !['content-type', 'contact'].includes(h.name.toLowerCase()))
        .map((h) => (h.name === 'CSeq' ? { ...h, value: `${getCSeq(inv).seq} CANCEL` } : h)),
      body: Buffer.alloc(0),
    };
    return transactions.deliver(req, inviteTx.flow as FakeFlow, inviteTx);
  }

  /** A request from the caller inside the answered dialog (BYE, ACK). */
  function callerInDialog(method: string, inviteTx: FakeServerTx): FakeServerTx {
    const ok = inviteTx.responses.find((r) => r.status === 200)!;
    const req = sip(`${method} sip:gateway@127.0.0.1:5060 SIP/2.0
      Via: SIP/2.0/UDP ${TRUNK_IP}:5060;branch=z9hG4bKcd${++seq}
      Max-Forwards: 70
      From: <sip:+15557654321@${TRUNK_IP}>;tag=${/tag=([^;>\s]+)/.exec(getHeader(inviteTx.request, 'From')!)![1]}
      To: <sip:x@127.0.0.1>;tag=${/tag=([^;>\s]+)/.exec(getHeader(ok, 'To')!)![1]}
      Call-ID: ${getCallId(inviteTx.request)}
      CSeq: ${method === 'ACK' ? 1 : 2} ${method}`);
    if (method === 'ACK') {
      transactions.deliverAck(req, inviteTx.flow);
      return new FakeServerTx(req, inviteTx.flow);
    }
    return transactions.deliver(req, inviteTx.flow as FakeFlow);
  }

  /** A BYE from fork n's contact in its answered dialog. */
  function forkBye(n: number): FakeServerTx {
    const inv = sentInvite(n).request;
    const fromTag = /tag=([^;>\s]+)/.exec(getHeader(inv, 'From')!)![1];
    const req = sip(`BYE sip:gateway@127.0.0.1:8080;transport=ws SIP/2.0
      Via: SIP/2.0/WS fork${n}.invalid;branch=z9hG4bKfb${++seq}
      Max-Forwards: 70
      From: <sip:bob@gw.test>;tag=fork${n}
      To: <sip:x@gw.test>;tag=${fromTag}
      Call-ID: ${getCallId(inv)}
      CSeq: 9 BYE`);
    return transactions.deliver(req, sentInvite(n).dest as FakeFlow);
  }

  /** Requests of `method` the gateway sent toward fork n's destination. */
  function toFork(n: number, method: string): SentRequest[] {
    const dest = sentInvite(n).dest;
    const callId = getCallId(sentInvite(n).request);
    return transactions.method(method).filter((s) => s.dest === dest && getCallId(s.request) === callId);
  }

  return { config, service, transactions, transport, media, upstream, trunkFlow, register, trunkInvite, userInvite, sentInvite, forkResponds, trunkCancel, callerInDialog, forkBye, toFork };
}
