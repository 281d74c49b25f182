// The INVITE usages on their own (sip/ua/invite-server.ts, invite-client.ts), against the in-memory fakes:
// what goes on the wire for each RFC 3261 rule they implement, and what the session hooks get.
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { getCSeq, getHeader, getTo } from '../../../gateway/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import { DialogRegistry } from '../../../gateway/sip/ua/dialogs.js';
import type { SessionHooks } from '../../../gateway/sip/ua/in-dialog.js';
import { InviteClient } from '../../../gateway/sip/ua/invite-client.js';
import { InviteServer } from '../../../gateway/sip/ua/invite-server.js';
import { FakeFlow, FakeServerTx, FakeTransactions, FakeTransport, settle, sip } from '../call/fakes.js';

const logger = createLogger('silent');
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function hooks(): SessionHooks & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    onReinvite: (req, respond) => (calls.push(`reinvite:${req.method}`), respond(488, 'Not Here')),
    onUpdate: (req, respond) => (calls.push(`update:${req.method}`), respond(200, 'OK')),
  };
}

function callerInvite(): SipRequest {
  return sip(
    `INVITE sip:bob@gw.test SIP/2.0
     Via: SIP/2.0/WS c.invalid;branch=z9hG4bKc1
     Max-Forwards: 70
     From: <sip:alice@gw.test>;tag=ctag
     To: <sip:bob@gw.test>
     Call-ID: srv-call
     CSeq: 1 INVITE
     Contact: <sip:a@c.invalid;transport=ws>
     Content-Type: application/sdp`,
    SDP,
  );
}

function inDialog(server: InviteServer, method: string, cseq: number): SipRequest {
  return sip(
    `${method} sip:gw@127.0.0.1 SIP/2.0
     Via: SIP/2.0/WS c.invalid;branch=z9hG4bKd${cseq}
     Max-Forwards: 70
     From: <sip:alice@gw.test>;tag=ctag
     To: <sip:bob@gw.test>;tag=${server.localTag}
     Call-ID: srv-call
     CSeq: ${cseq} ${method}`,
  );
}

function serverSetup() {
  const transactions = new FakeTransactions();
  const registry = new DialogRegistry();
  const flow = new FakeFlow('ws-1');
  const tx = new FakeServerTx(callerInvite(), flow);
  const events = { onHangup: vi.fn(), onAckTimeout: vi.fn(), onCancel: vi.fn(), session: hooks() };
  const server = new InviteServer(tx, { transactions, transport: new FakeTransport(), registry, logger }, events);
  return { transactions, registry, flow, tx, events, server };
}

describe('invite server (UAS usage)', () => {
  it('provisional and 2xx carry our To tag and Contact; the dialog is registered', () => {
    const { tx, server, registry } = serverSetup();
    server.provisional(180, 'Ringing');
    server.accept(SDP);
    expect(tx.statuses).toEqual([180, 200]);
    for (const r of tx.responses) expect(getTo(r).params.tag).toBe(server.localTag);
    expect(getHeader(tx.last, 'Contact')).toContain('127.0.0.1:8080');
    expect(registry.size).toBe(1);
    expect(server.state).toBe('accepted');
  });

  it('CANCEL before the answer → 487 and onCancel; after the 2xx it has no effect (§9.2)', () => {
    const a = serverSetup();
    a.server.receiveCancel();
    expect(a.tx.statuses).toEqual([487]);
    expect(a.events.onCancel).toHaveBeenCalledTimes(1);
    const b = serverSetup();
    b.server.accept(SDP);
    b.server.receiveCancel();
    expect(b.tx.statuses).toEqual([200]);
    expect(b.events.onCancel).not.toHaveBeenCalled();
  });

  it('a hangup before the ACK waits for it, then sends BYE over the caller flow (§15)', () => {
    const { transactions, server, flow } = serverSetup();
    server.accept(SDP);
    server.hangup();
    expect(transactions.method('BYE')).toHaveLength(0);
    server.onAck();
    expect(transactions.method('BYE')).toHaveLength(1);
    expect(transactions.method('BYE')[0]!.dest).toBe(flow);
  });

  it('no ACK within 64*T1 → onAckTimeout (§13.3.1.4)', () => {
    const { tx, server, events } = serverSetup();
    server.accept(SDP);
    tx.fireAckTimeout();
    expect(events.onAckTimeout).toHaveBeenCalledTimes(1);
    expect(server.state).toBe('confirmed');
  });

  it('in-dialog: OPTIONS 200, re-INVITE and UPDATE go to the session hooks, BYE 200 + onHangup', () => {
    const { server, flow, events } = serverSetup();
    server.accept(SDP);
    server.onAck();
    const answer = (method: string, cseq: number): FakeServerTx => {
      const t = new FakeServerTx(inDialog(server, method, cseq), flow);
      server.onRequest(t.request, t);
      return t;
    };
    expect(answer('OPTIONS', 2).statuses).toEqual([200]);
    expect(answer('INVITE', 3).statuses).toEqual([488]);
    expect(answer('UPDATE', 4).statuses).toEqual([200]);
    expect(events.session.calls).toEqual(['reinvite:INVITE', 'update:UPDATE']);
    expect(answer('INFO', 5).statuses).toEqual([405]);
    expect(answer('OPTIONS', 1).statuses).toEqual([500]); // §12.2.2: CSeq lower than the last one
    expect(answer('BYE', 6).statuses).toEqual([200]);
    expect(events.onHangup).toHaveBeenCalledTimes(1);
    expect(server.state).toBe('terminated');
  });

  it('the ACK of the 2xx reaches onConfirmed once; an ACK of a re-INVITE 2xx goes to session.onAck', () => {
    const { server, events } = serverSetup();
    const onConfirmed = vi.fn();
    const onAck = vi.fn();
    const s2 = new InviteServer(server.tx, { transactions: new FakeTransactions(), transport: new FakeTransport(), registry: new DialogRegistry(), logger }, {
      ...events,
      onConfirmed,
      session: { ...events.session, onAck },
    });
    s2.accept(SDP);
    const ack = (cseq: number): SipRequest =>
      sip(`ACK sip:gw@127.0.0.1 SIP/2.0\nVia: SIP/2.0/WS c.invalid;branch=z9hG4bKa${cseq}\nFrom: <sip:alice@gw.test>;tag=ctag\nTo: <sip:bob@gw.test>;tag=${s2.localTag}\nCall-ID: srv-call\nCSeq: ${cseq} ACK`);
    s2.onAck(ack(1));
    s2.onAck(ack(1));
    expect(onConfirmed).toHaveBeenCalledTimes(1);
    expect(s2.state).toBe('confirmed');
    s2.onAck(ack(7));
    expect(onAck).toHaveBeenCalledTimes(1);
    expect(onConfirmed).toHaveBeenCalledTimes(1);
  });

  it('reports its moves to change listeners', () => {
    const { server } = serverSetup();
    const moves: string[] = [];
    server.onChange((c) => moves.push(`${c.from}>${c.to}`));
    server.provisional(180, 'Ringing');
    server.reject(486, 'Busy Here');
    expect(moves).toEqual(['proceeding>early', 'early>terminated']);
  });
});

const TARGET = { transport: 'udp' as const, address: '127.0.0.1', port: 5099 };

function outInvite(): SipRequest {
  return sip(
    `INVITE sip:123@127.0.0.1:5099 SIP/2.0
     Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKu1
     Max-Forwards: 70
     From: <sip:gw@127.0.0.1>;tag=utag
     To: <sip:123@127.0.0.1>
     Call-ID: uac-call
     CSeq: 1 INVITE
     Contact: <sip:gw@127.0.0.1:5060>
     Content-Type: application/sdp`,
    SDP,
  );
}

function response(status: number, toTag: string | undefined, invite: SipRequest, body = ''): SipResponse {
  const cseq = getCSeq(invite).seq;
  return sip<SipResponse>(
    `SIP/2.0 ${status} X
     Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKu1
     From: <sip:gw@127.0.0.1>;tag=utag
     To: <sip:123@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}
     Call-ID: uac-call
     CSeq: ${cseq} INVITE
     Contact: <sip:peer@127.0.0.1:5099>
     ${body ? 'Content-Type: application/sdp' : 'X-None: 1'}`,
    body,
  );
}

function clientSetup(credentials?: { username: string; password: string }) {
  const transactions = new FakeTransactions();
  const transport = new FakeTransport();
  const events = { onProvisional: vi.fn(), onAnswer: vi.fn(), onFailure: vi.fn(), onHangup: vi.fn(), session: hooks() };
  const via = { transport: 'udp' as const, sentBy: { address: '127.0.0.1', port: 5060 } };
  const client = new InviteClient({ transactions, transport, registry: new DialogRegistry(), logger }, { invite: outInvite(), dest: TARGET, via, credentials }, events);
  client.start();
  const tx = () => transactions.method('INVITE').at(-1)!;
  return { transactions, transport, events, client, tx };
}

const acks = (t: FakeTransport) => t.sent.filter((s) => (s.message as SipRequest).method === 'ACK');

describe('invite client (UAC usage)', () => {
  it('ACKs each 2xx, a retransmission too (§13.2.2.4); a 2xx from another fork is ACKed and BYEd', async () => {
    const { transactions, transport, events, client, tx } = clientSetup();
    const inv = tx().request;
    tx().handlers.onResponse(response(200, 'f1', inv, SDP));
    tx().handlers.onResponse(response(200, 'f1', inv, SDP));
    await settle();
    expect(acks(transport)).toHaveLength(2);
    expect(events.onAnswer).toHaveBeenCalledTimes(1);
    tx().handlers.onResponse(response(200, 'f2', inv, SDP));
    await settle();
    expect(acks(transport)).toHaveLength(3);
    expect(transactions.method('BYE').map((b) => getTo(b.request).params.tag)).toEqual(['f2']);
    expect(client.state).toBe('confirmed');
  });

  it('CANCEL waits for a provisional (§9.1); a 2xx racing it is ACKed then BYEd (§15)', async () => {
    const { transactions, transport, events, client, tx } = clientSetup();
    const inv = tx().request;
    client.hangup();
    expect(transactions.method('CANCEL')).toHaveLength(0);
    tx().handlers.onResponse(response(180, 'f1', inv));
    expect(transactions.method('CANCEL')).toHaveLength(1);
    expect(events.onProvisional).not.toHaveBeenCalled();
    tx().handlers.onResponse(response(200, 'f1', inv, SDP));
    await settle();
    expect(acks(transport)).toHaveLength(1);
    expect(transactions.method('BYE')).toHaveLength(1);
    expect(events.onAnswer).not.toHaveBeenCalled();
  });

  it('answers one 407 with credentials (CSeq + 1); a second challenge fails', () => {
    const { transactions, events, tx } = clientSetup({ username: 'u', password: 'p' });
    const first = tx().request;
    const challenge = (inv: SipRequest): SipResponse => {
      const r = response(407, 'x', inv);
      r.headers.push({ name: 'Proxy-Authenticate', value: 'Digest realm="t", nonce="n1", algorithm=MD5' });
      return r;
    };
    tx().handlers.onResponse(challenge(first));
    expect(transactions.method('INVITE')).toHaveLength(2);
    const retry = tx().request;
    expect(getCSeq(retry).seq).toBe(getCSeq(first).seq + 1);
    expect(getHeader(retry, 'Proxy-Authorization')).toMatch(/^Digest /);
    tx().handlers.onResponse(challenge(retry));
    expect(events.onFailure).toHaveBeenCalledWith({ kind: 'challenge-after-credentials' });
  });

  it('Timer B → timeout outcome; a failure after cancelling is not reported', () => {
    const a = clientSetup();
    a.tx().handlers.onTimeout();
    expect(a.events.onFailure).toHaveBeenCalledWith({ kind: 'timeout' });
    const b = clientSetup();
    b.client.hangup();
    b.tx().handlers.onResponse(response(487, 'x', b.tx().request));
    expect(b.events.onFailure).not.toHaveBeenCalled();
    expect(b.client.state).toBe('terminated');
  });
});

describe('requests we send inside the dialog (sendInDialog)', () => {
  it('invite server: refused before the ACK; a re-INVITE over the caller flow, each 2xx ACKed', async () => {
    const { transactions, flow, events } = serverSetup();
    const transport = new FakeTransport();
    const s2 = new InviteServer(new FakeServerTx(callerInvite(), flow), { transactions, transport, registry: new DialogRegistry(), logger }, events);
    s2.accept(SDP);
    const handlers = { onResponse: vi.fn(), onTimeout: vi.fn(), onTransportError: vi.fn() };
    await expect(s2.sendInDialog('INVITE', { body: Buffer.from(SDP), contentType: 'application/sdp' }, handlers)).rejects.toThrow(/no confirmed dialog/);
    s2.onAck();
    const reinvite = await s2.sendInDialog('INVITE', { body: Buffer.from(SDP), contentType: 'application/sdp' }, handlers);
    const sent = transactions.method('INVITE').at(-1)!;
    expect(sent.dest).toBe(flow);
    expect(getTo(reinvite).params.tag).toBe('ctag');
    const ok = sip<SipResponse>(`SIP/2.0 200 OK\nVia: SIP/2.0/WS 127.0.0.1:8080;branch=z9hG4bKr1\nFrom: <sip:bob@gw.test>;tag=${s2.localTag}\nTo: <sip:alice@gw.test>;tag=ctag\nCall-ID: srv-call\nCSeq: ${getCSeq(reinvite).seq} INVITE`);
    sent.handlers.onResponse(ok);
    sent.handlers.onResponse(ok);
    await settle();
    const acks = transport.sent.filter((m) => (m.message as SipRequest).method === 'ACK');
    expect(acks).toHaveLength(2);
    expect(getCSeq(acks[0]!.message).seq).toBe(getCSeq(reinvite).seq);
    expect(handlers.onResponse).toHaveBeenCalledTimes(2);
  });

  it('invite client: an UPDATE goes to the remote target and gets no ACK', async () => {
    const { transactions, transport, client, tx } = clientSetup();
    tx().handlers.onResponse(response(200, 'f1', tx().request, SDP));
    await settle();
    const handlers = { onResponse: vi.fn(), onTimeout: vi.fn(), onTransportError: vi.fn() };
    const update = await client.sendInDialog('UPDATE', {}, handlers);
    expect(update.method).toBe('UPDATE');
    expect(getTo(update).params.tag).toBe('f1');
    const sent = transactions.method('UPDATE')[0]!;
    sent.handlers.onResponse(response(200, 'f1', update));
    await settle();
    expect(acks(transport)).toHaveLength(1); // only the ACK of the initial 2xx
    expect(handlers.onResponse).toHaveBeenCalledTimes(1);
  });
});
